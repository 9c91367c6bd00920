import Console
import Glibc
import PacketCapture
import Transport
import TunDevice
import Wire

/// `vshare connect NAME`: joins a share through the relay and gives this host the machine —
/// a TUN interface that owns the machine IP (every TCP/UDP port, and ping) and a SOCKS5 proxy
/// on loopback for programs without privileges. One event loop on the main thread.
///
/// Life: TUN first (so the session can tell the share which IP the peer uses), then the relay:
/// HELLO, `openSession`; on `sessionOpened` SOCKS starts and the lines are printed. A lost
/// connection is retried with back-off while the TUN stays up; an unknown share ends with exit 1.
public final class ConnectClient: TunnelConnectionDelegate {
    private let config: ConnectConfig
    private let loop: EventLoop
    private let relay: RelayEndpoint
    private var tunnel: TunnelConnection?
    private var pump: TunPump?
    private var capture: PacketCaptureFile?
    private var socks: SOCKS5Server?
    private var machineAddress: IPv4Address
    private var everJoined = false
    private var exitStatus: Int32?
    private var backoff: Double
    private var signals: TerminationSignals?
    /// Why the relay asked us to come back later (the share's agent is away), if it did.
    private var retryLater: String?
    private let label = "connect"

    public init(config: ConnectConfig) throws(ConnectError) {
        self.config = config
        machineAddress = config.machineAddress
        do {
            loop = try EventLoop(name: "connect")
            loop.spinMicroseconds = config.busyPollMicroseconds
        } catch {
            throw ConnectError.system(error)
        }
        do {
            relay = try RelayEndpoint(config.relay, caPath: config.relayCA)
        } catch {
            throw ConnectError.relay(error)
        }
        backoff = config.reconnectDelay.first
    }

    /// Runs until Ctrl-C or the share ends; returns the process exit status.
    public func run() -> Int32 {
        TerminationSignals.block()
        Console.headline(label, "Connecting to: \(config.name)")
        do {
            signals = try TerminationSignals(loop: loop) { [unowned self] _ in self.finish(0, notice: "Stopped.") }
        } catch {
            Console.error("error: \(error)")
            return 1
        }
        openCapture()
        if config.useTun && exitStatus == nil { openInterface() }
        if exitStatus == nil { dial() }
        if exitStatus == nil { loop.run() }
        teardown()
        return exitStatus ?? 0
    }

    // MARK: The interface

    /// `--pcap`: every packet that crosses the tunnel, both ways (TUN traffic and SOCKS UDP alike).
    private func openCapture() {
        guard let path = config.pcapPath else { return }
        do {
            capture = try PacketCaptureFile(path: path)
        } catch {
            finish(1, error: "\(ConnectError.pcap(path, "\(error)"))")
        }
    }

    private func openInterface() {
        do {
            let device = try MachineAddressAllocator.openDevice(requested: config.machineAddress, mtu: config.mtu)
            pump = try TunPump(device: device, loop: loop, capture: capture)
            machineAddress = device.peerAddress
            if machineAddress != config.machineAddress {
                Console.detail(label, "\(config.machineAddress) is in use on this host; using \(machineAddress).")
            }
        } catch let error as TunError where error.isPermissionProblem {
            Console.detail(label, "No virtual interface: \(error)")
        } catch {
            finish(1, error: "\(error)")
        }
    }

    // MARK: The relay

    private func dial() {
        do {
            tunnel = try relay.dial(on: loop, mux: config.mux, delegate: self)
        } catch {
            connectionLost(error)
        }
    }

    public func tunnelDidConnect(_ tunnel: TunnelConnection) {
        tunnel.sendHello(HelloBody(role: .connect))
        var open = ControlMessage(kind: .openSession)
        open.name = config.name
        open.machineAddress = machineAddress.description
        tunnel.sendControl(open.encoded())
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {
        if version != TunnelProtocol.version {
            finish(1, error: "the relay speaks tunnel protocol \(version), this vshare \(TunnelProtocol.version): use matching versions.")
        }
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {
        guard let message = ControlMessage.decode(payload) else { return }
        switch message.kind {
        case .sessionOpened:
            sessionOpened(message, tunnel: tunnel)
        case .shareEnded:
            finish(0, notice: "The share \(config.name) has ended (\(message.reason ?? "ended")).")
        case .error:
            let reason = message.reason ?? "the relay refused the request"
            switch message.errorCode {
            case .notFound?: finish(1, error: "\(reason). Ask the sharer for the current name.")
            case .agentUnavailable?:
                // Not an end: the sharer's agent is reconnecting. Retry with back-off.
                retryLater = reason
                tunnel.close()
            default: finish(1, error: reason)
            }
        default:
            break
        }
    }

    private func sessionOpened(_ message: ControlMessage, tunnel: TunnelConnection) {
        backoff = config.reconnectDelay.first
        pump?.attach(tunnel)
        if everJoined {
            Console.headline(label, "Reconnected to \(config.name).")
            socks?.attach(tunnel)
            return
        }
        everJoined = true
        do {
            let server = try SOCKS5Server(address: config.socks, loop: loop, shareName: config.name,
                                          machineAddress: machineAddress, capture: capture)
            server.attach(tunnel)
            socks = server
        } catch {
            return finish(1, error: "cannot start the SOCKS proxy on \(config.socks): \(error). Choose another with --socks.")
        }
        Console.headline(label, "Connect is running!")
        Console.detail(label, "SOCKS address: \(socks!.address)")
        if pump != nil {
            Console.detail(label, "Machine IP: \(machineAddress)")
        } else if config.useTun {
            Console.detail(label, "The virtual interface needs root or CAP_NET_ADMIN: there is no machine IP; use the SOCKS address.")
        }
        if let seconds = message.expiresIn {
            Console.detail(label, "The share expires in \(DurationSyntax.format(seconds: max(seconds, 1))).")
        }
        Console.detail(label, "Press Ctrl-C to stop connection.")
    }

    public func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        tunnel.reset(stream: stream, code: .refused, reason: "connect clients accept no streams")
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveDatagram bytes: [UInt8], channel: UInt32) {
        bytes.withUnsafeBytes { packet in
            capture?.write(packet: packet)
            if socks?.claims(packet) == true { return }
            pump?.deliver(packet)
        }
    }

    public func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {
        guard self.tunnel === tunnel else { return }
        self.tunnel = nil
        pump?.attach(nil)
        socks?.attach(nil)
        if exitStatus != nil { return loop.stop() }
        connectionLost(error)
    }

    private func connectionLost(_ error: Error?) {
        let why = error.map { "\($0)" } ?? "the relay closed the connection"
        if let reason = retryLater {
            retryLater = nil
            Console.headline(label, "The share is not reachable right now (\(reason)); retrying in \(Int(backoff)) s...")
            return retry()
        }
        if !everJoined {
            if (error as? TLSError)?.isCertificateFailure == true {
                return finish(1, error: "cannot verify the relay's TLS certificate (\(why)). Pass the relay's CA with --relay-ca.")
            }
            return finish(1, error: "cannot connect to the relay at \(config.relay): \(why). Is the relay running, and is --relay right?")
        }
        Console.headline(label, "Lost the connection to the relay (\(why)); reconnecting in \(Int(backoff)) s...")
        retry()
    }

    private func retry() {
        let delay = backoff
        backoff = min(backoff * 2, config.reconnectDelay.max)
        loop.schedule(after: delay) { [weak self] in
            guard let self, self.exitStatus == nil else { return }
            self.dial()
        }
    }

    // MARK: Ending

    private func finish(_ status: Int32, notice: String? = nil, error: String? = nil) {
        guard exitStatus == nil else { return }
        exitStatus = status
        if let notice { Console.headline(label, notice) }
        if let error { Console.error("error: \(error)") }
        // The interface and its route go first: nothing should route into a dead tunnel.
        closeInterface()
        if let tunnel, tunnel.isOpen {
            tunnel.closeAfterFlushing()
            loop.schedule(after: 1) { [weak self] in self?.loop.stop() }
        } else {
            loop.stop()
        }
    }

    private func teardown() {
        closeInterface()
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
