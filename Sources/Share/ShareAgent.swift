import Console
import PacketStack
import Transport
import Wire

/// `vshare share`: keeps one TLS connection to the relay (`RelayLink`), holds the share, and serves
/// each stream the relay opens by dialing the shared machine on a port `OpenRequestPolicy` allows,
/// and only that machine. Connect clients of the share are packet sessions (`PacketSession`):
/// their IP packets arrive as datagrams on the session's channel and their flows end as sockets
/// to the same machine.
public final class ShareAgent: RelayLinkDelegate {
    let config: ShareConfig
    let loop: EventLoop
    private let link: RelayLink
    private let policy: OpenRequestPolicy
    /// The machine's address, resolved once at start so no stream waits on DNS.
    private let targetAddress: String
    private var name: String?
    private var resumeSecret: String?
    private var live = false
    private var ending = false
    private var signals: TerminationSignals?
    private var sessions: [UInt32: PacketSession] = [:]
    /// `--ssh`: the share's SSH key (inserted into the machine, sealed for the relay).
    var sshSetup: SSHShareSetup?

    public init(config: ShareConfig) throws(ShareError) {
        self.config = config
        do {
            loop = try EventLoop(name: "share")
            loop.spinMicroseconds = config.busyPollMicroseconds
        } catch {
            throw ShareError.system(error)
        }
        let relay: RelayEndpoint
        do {
            relay = try RelayEndpoint(config.relay, caPath: config.relayCA)
        } catch {
            throw ShareError.relay(error)
        }
        do {
            targetAddress = try SocketAddress(host: config.target, port: 0).host
        } catch {
            throw ShareError.target("\(error)")
        }
        policy = OpenRequestPolicy(config: config)
        link = RelayLink(endpoint: relay, role: .share, loop: loop, mux: config.mux, backoff: config.reconnect,
                         label: config.machineName)
        link.delegate = self
    }

    /// Runs until the share ends; returns the process exit status.
    public func run() -> Int32 {
        TerminationSignals.block()
        let machine = config.machineName
        Console.headline(machine, "Detecting network information for machine...")
        Console.detail(machine, "Local machine address: \(config.target)")
        Console.detail(machine, "Local HTTP port: \(config.disableHTTP ? "disabled" : String(config.httpPort))")
        Console.detail(machine, "Local HTTPS port: \(config.httpsPort.map(String.init) ?? "disabled")")
        if config.ssh != nil, !prepareSSH() { return 1 }
        Console.headline(machine, "Checking authentication and authorization...")
        if sshSetup != nil, !checkSSH() { return 1 }
        do {
            signals = try TerminationSignals(loop: loop) { [unowned self] _ in self.interrupted() }
        } catch {
            Console.error("error: \(error)")
            return 1
        }
        link.start()
        loop.run()
        sshSetup?.cleanUp()
        return link.exitStatus ?? 0
    }

    // MARK: The relay

    public func relayLinkDidConnect(_ link: RelayLink, tunnel: TunnelConnection) {
        tunnel.onDatagramRoom = { [unowned self] in
            for session in self.sessions.values where session.waitingForTunnel { session.tunnelHasRoom() }
        }
        if name == nil { Console.headline(config.machineName, "Creating share session...") }
        let resume = name.flatMap { name in resumeSecret.map { CreateShare.Resume(name: name, secret: $0) } }
        link.send(.createShare(CreateShare(token: config.token, httpEnabled: !config.disableHTTP,
                                           httpsEnabled: config.httpsPort != nil, resume: resume, ssh: sshSetup?.blob)))
    }

    public func relayLink(_ link: RelayLink, didReceive message: ControlMessage, on tunnel: TunnelConnection) {
        switch message {
        case .shareCreated(let created): shareCreated(created)
        case .shareEnded(let ended):
            switch ended.reason {
            case .expired: link.finish(0, notice: "The share \(name ?? "") expired; exiting.")
            case .ended, .abandoned: link.finish(0, notice: "The share \(name ?? "") has ended.")
            }
        case .error(let refusal):
            switch refusal.code {
            case .unauthorized: link.finish(1, error: "authentication failed: \(refusal.reason)")
            default: link.finish(1, error: refusal.reason)
            }
        case .peerJoined(let peer): openSession(peer, on: tunnel)
        case .sshKeyReleased: sshSetup?.markReleased()
        case .sessionClosed(let closed):
            guard let session = sessions.removeValue(forKey: closed.session) else { return }
            session.close()
            Console.detail(config.machineName, "A peer disconnected (session \(closed.session)): \(session.stack.counters).")
        default:
            break
        }
    }

    private func shareCreated(_ created: ShareCreated) {
        let machine = config.machineName
        link.requestAccepted()
        if live && created.name == name {
            Console.headline(machine, "Reconnected to the relay; the share \(created.name) is still live.")
        } else {
            if live { Console.headline(machine, "The relay no longer held the old share; this is a new one.") }
            Console.detail(machine, "Share will be at: \(created.name)")
            Console.headline(machine, "Your vshare is running! Name: \(created.name)")
            if let url = created.url { Console.headline(machine, "URL: \(url)") }
            if let https = created.httpsAddress { Console.headline(machine, "HTTPS URL: \(https)") }
            Console.detail(machine, "The share expires in \(DurationSyntax.format(seconds: max(created.expiresIn, 1))). Press Ctrl-C to end it sooner.")
        }
        name = created.name
        resumeSecret = created.resumeSecret
        live = true
    }

    public func relayLink(_ link: RelayLink, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32) {
        guard let session = sessions[channel] else { return }
        session.receive(bytes)
    }

    // MARK: Connect sessions

    private func openSession(_ peer: PeerJoined, on tunnel: TunnelConnection) {
        let id = peer.session
        guard sessions[id] == nil, let machine = IPv4Address(peer.machineAddress) else { return }
        var stackConfig = PacketStackConfig(machineAddress: machine)
        stackConfig.mtu = config.packetMTU
        sessions[id] = PacketSession(id: id, tunnel: tunnel, targetHost: targetAddress, config: stackConfig)
        Console.detail(config.machineName, "A peer connected from \(peer.client ?? "?") (session \(id)); it sees this machine as \(machine).")
    }

    private func closeSessions() {
        for session in sessions.values { session.close() }
        sessions.removeAll()
    }

    public func relayLink(_ link: RelayLink, didOpen stream: UInt32, metadata: [UInt8], on tunnel: TunnelConnection) {
        switch policy.verdict(for: metadata, isLiveSession: { sessions[$0] != nil }) {
        case .dial(let port, let request): dial(port: port, for: request, stream: stream, on: tunnel)
        case .reset(let code, let reason): tunnel.reset(stream: stream, code: code, reason: reason)
        }
    }

    /// Joins `stream` to a new connection to `port` of the machine (the policy's port, our own target).
    private func dial(port: UInt16, for request: OpenRequest, stream: UInt32, on tunnel: TunnelConnection) {
        do {
            let target = try SocketAddress(host: targetAddress, port: port)
            let socket = try Socket.connect(to: target)
            let bridge = StreamSocketBridge(tunnel: tunnel, stream: stream, socket: socket, connecting: true)
            bridge.targetDescription = "the machine at \(target)"
            if request.service == .tcp, let setup = sshSetup, port == setup.options.port, setup.armOnce() {
                sshOnceStarted(setup, bridge: bridge)
            }
            if request.confirm == true {
                bridge.onConnectResult = { [weak tunnel] failure in
                    if failure == nil { tunnel?.sendConnected(stream: stream) }
                }
            }
            try bridge.start()
        } catch {
            tunnel.reset(stream: stream, code: .unreachable, reason: "cannot reach the machine: \(error)")
        }
    }

    public func relayLinkDidDisconnect(_ link: RelayLink) {
        // The relay ends every connect session with the connection; peers rejoin.
        closeSessions()
    }

    public func relayLink(_ link: RelayLink, nextAfterLoss error: Error?) -> RelayLink.Next {
        if ending { return .finish(status: 0, notice: "The share \(name ?? "") has ended.") }
        let why = error.map { "\($0)" } ?? "the relay closed the connection"
        guard live else {
            // Nothing to keep alive yet: a wrong address or CA is better reported than retried.
            if (error as? TLSError)?.isCertificateFailure == true {
                return .finish(status: 1, error: "cannot verify the relay's TLS certificate (\(why)). Pass the relay's CA with --relay-ca (the relay prints its path; usually DATA_DIR/ca.pem).")
            }
            return .finish(status: 1, error: "cannot connect to the relay at \(config.relay): \(why). Is the relay running, and is --relay right?")
        }
        return .reconnect(notice: "Lost the connection to the relay (\(why)); reconnecting in \(link.nextDelay) s...")
    }

    // MARK: Ending

    private func interrupted() {
        guard !ending else { return link.finish(0, notice: "Stopped.") }
        ending = true
        guard live, link.tunnel?.isOpen == true else { return link.finish(0, notice: "Stopped.") }
        Console.headline(config.machineName, "Ending the share...")
        link.send(.endShare)
        // The relay answers at once; don't hang on a relay that doesn't.
        loop.schedule(after: 3) { [weak self] in self?.link.finish(0, notice: "The relay did not confirm the end of the share; exiting.") }
    }
}

public enum ShareError: Error, CustomStringConvertible {
    case system(SystemError)
    case relay(RelayEndpoint.Failure)
    case target(String)

    public var description: String {
        switch self {
        case .system(let error): return "\(error)"
        case .relay(let failure): return "\(failure)"
        case .target(let why): return "bad --target: \(why)"
        }
    }
}
