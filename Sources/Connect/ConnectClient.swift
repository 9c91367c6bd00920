import Console
import EndToEnd
import Glibc
import PacketCapture
import Transport
import TunDevice
import Wire

/// `vshare connect NAME --code CODE`: joins a share and gives this host the machine — a TUN
/// interface that owns the machine IP (every TCP/UDP port the share allows, and ping) and a SOCKS5
/// proxy on loopback for programs without privileges. One event loop on the main thread.
///
/// Life: TUN first (so the session can tell the share which IP the peer uses), then the relay:
/// HELLO, `openSession` (through `RelayLink`); `sessionOpened` brings a ticket, with which this side
/// meets the share's agent end to end (`EndToEndHandshake`: a data connection the relay only
/// copies, SPAKE2 over the connect code, TLS 1.3). Inside that session HELLO names the machine IP;
/// the agent's HELLO means connected: SOCKS starts and the lines are printed. Packets from the
/// session pass `PeerPacketGate` first. A lost connection is retried with back-off while the TUN
/// stays up; the rejoin names the agent's resume ID, so the agent gives back the same packet stack
/// and TCP connections through the machine IP carry on (SOCKS streams do not: they were the old
/// session's). An unknown share or a wrong code ends with exit 1.
public final class ConnectClient: RelayLinkDelegate {
    private let config: ConnectConfig
    private let loop: EventLoop
    private let link: RelayLink
    private var pump: TunPump?
    private var capture: PacketCaptureFile?
    private var socks: SOCKS5Server?
    private var machineAddress: IPv4Address
    var machineAddressText: String { machineAddress.description }
    private var everJoined = false
    private var expiresIn = 0
    private var signals: TerminationSignals?
    /// Why the relay asked us to come back later (the share's agent is away), if it did.
    private var retryLater: String?
    private let label = "connect"
    /// SPAKE2's w for the code and the share's name, derived once at start.
    private var credentials: PairingCredentials?
    private var handshake: EndToEndHandshake?
    /// The end-to-end session with the share's agent, once paired.
    private(set) var session: TunnelConnection?
    /// The agent's resume ID for the current (or lost) session: a rejoin names it in its HELLO.
    var resumeID: String?
    /// Packets from the session must answer flows this host opened. One gate for the whole run (made
    /// with the TUN, or with SOCKS when there is none), so flows outlive a reconnect.
    private var gate: PeerPacketGate?
    /// When `run` began: "Connect is running!" says how long joining took.
    private var startedAt = 0.0

    public init(config: ConnectConfig) throws(ConnectError) {
        self.config = config
        machineAddress = config.machineAddress
        do {
            loop = try EventLoop(name: "connect")
            loop.spinMicroseconds = config.busyPollMicroseconds
        } catch {
            throw ConnectError.system(error)
        }
        let relay: RelayEndpoint
        do {
            relay = try RelayEndpoint(config.relay, caPath: config.relayCA)
        } catch {
            throw ConnectError.relay(error)
        }
        link = RelayLink(endpoint: relay, role: .connect, loop: loop, mux: config.mux, backoff: config.reconnect,
                         label: label)
        link.delegate = self
    }

    /// Runs until Ctrl-C or the share ends; returns the process exit status.
    public func run() -> Int32 {
        TerminationSignals.block()
        Console.headline(label, "Connecting to: \(config.name)")
        do {
            signals = try TerminationSignals(loop: loop) { [unowned self] _ in self.link.finish(0, notice: "Stopped.") }
        } catch {
            Console.error("error: \(error)")
            return 1
        }
        startedAt = MonotonicClock.now()
        deriveCredentials()
        openCapture()
        if config.useTun && link.exitStatus == nil { openInterface() }
        link.start()
        if link.exitStatus == nil { loop.run() }
        teardown()
        return link.exitStatus ?? 0
    }

    private func deriveCredentials() {
        guard let code = config.code else {
            return link.finish(1, error: "a connect code is needed: pass --code CODE (the sharer's `vshare share` prints it)")
        }
        do {
            credentials = try PairingCredentials(code: code, shareName: config.name)
        } catch {
            link.finish(1, error: "cannot use the connect code: \(error)")
        }
    }

    // MARK: The interface

    /// `--pcap`: every packet that crosses the tunnel, both ways (TUN traffic and SOCKS UDP alike).
    private func openCapture() {
        guard let path = config.pcapPath else { return }
        do {
            capture = try PacketCaptureFile(path: path)
        } catch {
            link.finish(1, error: "\(ConnectError.pcap(path, "\(error)"))")
        }
    }

    private func openInterface() {
        do {
            let device = try MachineAddressAllocator.openDevice(requested: config.machineAddress, mtu: config.mtu)
            let gate = PeerPacketGate(machine: device.peerAddress, tunAddress: device.localAddress)
            self.gate = gate
            pump = try TunPump(device: device, loop: loop, capture: capture, gate: gate)
            machineAddress = device.peerAddress
            if machineAddress != config.machineAddress {
                Console.detail(label, "\(config.machineAddress) is in use on this host; using \(machineAddress).")
            }
        } catch let error as TunError where error.isPermissionProblem {
            Console.detail(label, "No virtual interface: \(error)")
        } catch {
            link.finish(1, error: "\(error)")
        }
    }

    // MARK: The relay

    public func relayLinkDidConnect(_ link: RelayLink, tunnel: TunnelConnection) {
        link.send(.openSession(OpenSession(name: config.name)))
    }

    public func relayLink(_ link: RelayLink, didReceive message: ControlMessage, on tunnel: TunnelConnection) {
        switch message {
        case .sessionOpened(let opened):
            meetAgent(opened)
        case .shareEnded(let ended):
            link.finish(0, notice: "The share \(config.name) has ended (\(ended.reason.rawValue)).")
        case .error(let refusal):
            switch refusal.code {
            case .notFound: link.finish(1, error: "\(TerminalText.sanitized(refusal.reason)). Ask the sharer for the current name.")
            case .connectOff: link.finish(1, error: TerminalText.sanitized(refusal.reason))
            case .agentUnavailable:
                // Not an end: the sharer's agent is reconnecting. Retry with back-off.
                retryLater = TerminalText.sanitized(refusal.reason)
                tunnel.close()
            default: link.finish(1, error: TerminalText.sanitized(refusal.reason))
            }
        default:
            break
        }
    }

    /// The relay matched us with the share's agent: pair over the data connection with its ticket.
    private func meetAgent(_ opened: SessionOpened) {
        link.requestAccepted()
        guard let credentials else { return }
        guard let text = opened.ticket, let ticket = Hex.decode(text), ticket.count == DataPreamble.ticketLength else {
            return link.finish(1, error: "the relay sent no valid ticket for the end-to-end session; use matching vshare versions")
        }
        expiresIn = opened.expiresIn
        do {
            let handshake = try EndToEndHandshake(side: .peer, relay: link.endpoint.address, ticket: ticket,
                                                  credentials: credentials, loop: loop)
            self.handshake = handshake
            handshake.start { [weak self] result in self?.paired(result) }
        } catch {
            link.finish(1, error: "\(error)")
        }
    }

    private func paired(_ result: Result<TLSConnection, EndToEndError>) {
        handshake = nil
        switch result {
        case .success(let tls):
            let tunnel = TunnelConnection(tls: tls, role: .dialer, config: config.mux)
            tunnel.delegate = self
            session = tunnel
            do { try tunnel.start() } catch { lostSession("\(error)") }
        case .failure(.wrongCode):
            link.finish(1, error: "\(EndToEndError.wrongCode)")
        case .failure(.refused(let why)):
            link.finish(1, error: "the share refused the connection: \(why)")
        case .failure(let error):
            lostSession("\(error)")
        }
    }

    /// The session with the agent is up (its HELLO arrived): traffic may flow.
    func sessionReady(_ tunnel: TunnelConnection, resumed: Bool) {
        pump?.attach(tunnel)
        if everJoined {
            Console.headline(label, "Reconnected to \(config.name).")
            if resumed {
                Console.headline(label, pump != nil ? "Session resumed (TCP connections through \(machineAddress) carry on)." : "Session resumed.")
            }
            socks?.attach(tunnel)
            return
        }
        everJoined = true
        let gate = self.gate ?? PeerPacketGate(machine: machineAddress, tunAddress: nil)
        self.gate = gate
        do {
            let server = try SOCKS5Server(address: config.socks, loop: loop, shareName: config.name,
                                          machineAddress: machineAddress, capture: capture, gate: gate)
            server.attach(tunnel)
            socks = server
        } catch {
            return link.finish(1, error: "cannot start the SOCKS proxy on \(config.socks): \(error). Choose another with --socks.")
        }
        Console.headline(label, "Connect is running! (end to end, in \(Int((MonotonicClock.now() - startedAt) * 1000)) ms)")
        Console.detail(label, "SOCKS address: \(socks!.address)")
        if pump != nil {
            Console.detail(label, "Machine IP: \(machineAddress)")
        } else if config.useTun {
            Console.detail(label, "The virtual interface needs root or CAP_NET_ADMIN: there is no machine IP; use the SOCKS address.")
        }
        Console.detail(label, "The share expires in \(DurationSyntax.format(seconds: max(expiresIn, 1))).")
        Console.detail(label, "Press Ctrl-C to stop connection.")
    }

    /// The end-to-end session failed or ended: drop it and rejoin through the relay (the control
    /// connection's loss drives the back-off), unless it never worked, which is reported instead.
    func lostSession(_ why: String) {
        session = nil
        pump?.attach(nil)
        socks?.attach(nil)
        guard link.exitStatus == nil else { return }
        if !everJoined { return link.finish(1, error: why) }
        // A share that ends closes its sessions as its agent exits, and the relay's `shareEnded` comes
        // on the control connection: the two race. Give that message a moment before rejoining, so an
        // ended share is reported as ended, not as "no share named ..." on the rejoin.
        let control = link.tunnel
        loop.schedule(after: Self.rejoinDelay) { [weak self] in
            guard let self, self.link.exitStatus == nil, self.session == nil, self.link.tunnel === control else { return }
            Console.headline(self.label, "Lost the end-to-end session (\(why)).")
            control?.close()
        }
    }

    /// How long a lost session waits for the control connection to say the share ended.
    static let rejoinDelay = 1.0

    /// A packet from the agent, if it answers a flow this host opened.
    func sessionDelivered(_ packet: UnsafeRawBufferPointer) {
        guard gate?.admitsInbound(packet) == true else { return }
        capture?.write(packet: packet)
        if socks?.claims(packet) == true { return }
        pump?.deliver(packet)
    }

    public func relayLink(_ link: RelayLink, didOpen stream: UInt32, metadata: [UInt8], on tunnel: TunnelConnection) {
        tunnel.reset(stream: stream, code: .refused, reason: "connect clients accept no streams")
    }

    /// The control connection is gone: so is the session it set up (a new ticket pairs again).
    public func relayLinkDidDisconnect(_ link: RelayLink) {
        handshake = nil
        let ending = session
        session = nil
        ending?.close()
        pump?.attach(nil)
        socks?.attach(nil)
    }

    public func relayLink(_ link: RelayLink, nextAfterLoss error: Error?) -> RelayLink.Next {
        let why = error.map { "\($0)" } ?? "the relay closed the connection"
        if let reason = retryLater {
            retryLater = nil
            return .reconnect(notice: "The share is not reachable right now (\(reason)); retrying in \(link.nextDelay) s...")
        }
        if !everJoined {
            if (error as? TLSError)?.isCertificateFailure == true {
                return .finish(status: 1, error: "cannot verify the relay's TLS certificate (\(why)). Pass the relay's CA with --relay-ca.")
            }
            return .finish(status: 1, error: "cannot connect to the relay at \(config.relay): \(why). Is the relay running, and is --relay right?")
        }
        return .reconnect(notice: "Lost the connection to the relay (\(why)); reconnecting in \(link.nextDelay) s...")
    }

    // MARK: Ending

    /// The interface and its route go first: nothing should route into a dead tunnel. `leaving`
    /// tells the agent this peer is not cut off: it keeps nothing for a resume. (Not GOAWAY: the
    /// agent would answer it, into a socket this side is about to close.)
    public func relayLinkWillFinish(_ link: RelayLink) {
        closeInterface()
        session?.sendControl(ControlMessage.leaving.encoded())
        session?.closeAfterFlushing()   // now: the relay link's own close would drop the unsent message
    }

    private func teardown() {
        closeInterface()
        session?.close()
        if let gate, gate.dropped > 0 { Console.detail(label, gate.summary) }
        socks?.close()
        capture?.close()
    }

    private func closeInterface() {
        guard let pump else { return }
        if pump.droppedToTun > 0 {
            Console.detail(label, "\(pump.droppedToTun) packets from the share were dropped: the interface's queue was full.")
        }
        pump.close()
        self.pump = nil
    }
}

public enum ConnectError: Error, CustomStringConvertible {
    case system(SystemError)
    case relay(RelayEndpoint.Failure)
    case pcap(String, String)

    public var description: String {
        switch self {
        case .system(let error): return "\(error)"
        case .relay(let failure): return "\(failure)"
        case .pcap(let path, let why): return "cannot write the packet capture \(path): \(why)"
        }
    }
}
