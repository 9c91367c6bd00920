import Console
import PacketStack
import Transport
import Wire

/// `vshare share`: keeps one TLS connection to the relay, holds the share, and serves each stream the
/// relay opens by dialing the shared machine on the configured port, and only that machine.
/// Connect clients of the share are packet sessions (`PacketSession`): their IP packets arrive as
/// datagrams on the session's channel and their flows end as sockets to the same machine.
public final class ShareAgent: TunnelConnectionDelegate {
    let config: ShareConfig
    let loop: EventLoop
    private let relay: RelayEndpoint
    /// The machine's address, resolved once at start so no stream waits on DNS.
    private let targetAddress: String
    private var tunnel: TunnelConnection?
    private var name: String?
    private var resumeSecret: String?
    private var live = false
    private var ending = false
    private var exitStatus: Int32?
    private var backoff: Double
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
        backoff = config.reconnectDelay.first
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
        connect()
        loop.run()
        sshSetup?.cleanUp()
        return exitStatus ?? 0
    }

    // MARK: Connection to the relay

    private func connect() {
        do {
            let tunnel = try relay.dial(on: loop, mux: config.mux, delegate: self)
            tunnel.onDatagramRoom = { [unowned self] in
                for session in self.sessions.values where session.waitingForTunnel { session.tunnelHasRoom() }
            }
            self.tunnel = tunnel
        } catch {
            connectionLost(error)
        }
    }

    public func tunnelDidConnect(_ tunnel: TunnelConnection) {
        tunnel.sendHello(HelloBody(role: .share))
        if name == nil { Console.headline(config.machineName, "Creating share session...") }
        var create = ControlMessage(kind: .createShare)
        create.token = config.token
        create.httpEnabled = !config.disableHTTP
        create.httpsEnabled = config.httpsPort != nil
        create.name = name
        create.resumeSecret = resumeSecret
        create.ssh = sshSetup?.blob
        tunnel.sendControl(create.encoded())
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {
        if version != TunnelProtocol.version {
            finish(1, error: "the relay speaks tunnel protocol \(version), this vshare \(TunnelProtocol.version): use matching versions.")
        }
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {
        guard let message = ControlMessage.decode(payload) else { return }
        let machine = config.machineName
        switch message.kind {
        case .shareCreated:
            guard let newName = message.name else { return }
            backoff = config.reconnectDelay.first
            if live && newName == name {
                Console.headline(machine, "Reconnected to the relay; the share \(newName) is still live.")
            } else {
                if live { Console.headline(machine, "The relay no longer held the old share; this is a new one.") }
                Console.detail(machine, "Share will be at: \(newName)")
                Console.headline(machine, "Your vshare is running! Name: \(newName)")
                if let url = message.url { Console.headline(machine, "URL: \(url)") }
                if let https = message.httpsAddress { Console.headline(machine, "HTTPS URL: \(https)") }
                if let seconds = message.expiresIn {
                    Console.detail(machine, "The share expires in \(DurationSyntax.format(seconds: max(seconds, 1))). Press Ctrl-C to end it sooner.")
                }
            }
            name = newName
            resumeSecret = message.resumeSecret
            live = true
        case .shareEnded:
            if message.reason == "expired" {
                finish(0, notice: "The share \(name ?? "") expired; exiting.")
            } else {
                finish(0, notice: "The share \(name ?? "") has ended.")
            }
        case .error:
            let reason = message.reason ?? "the relay refused the request"
            switch message.errorCode {
            case .unauthorized?: finish(1, error: "authentication failed: \(reason)")
            default: finish(1, error: reason)
            }
        case .sessionOpened:
            openSession(message, on: tunnel)
        case .sshKeyReleased:
            sshSetup?.markReleased()
        case .sessionClosed:
            guard let id = message.session, let session = sessions.removeValue(forKey: id) else { return }
            session.close()
            Console.detail(machine, "A peer disconnected (session \(id)): \(session.stack.counters).")
        default:
            break
        }
    }

    public func tunnel(_ tunnel: TunnelConnection, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32) {
        guard let session = sessions[channel] else { return }
        session.receive(bytes)
    }

    // MARK: Connect sessions

    private func openSession(_ message: ControlMessage, on tunnel: TunnelConnection) {
        guard let id = message.session, sessions[id] == nil,
              let machine = message.machineAddress.flatMap(IPv4Address.init) else { return }
        var stackConfig = PacketStackConfig(machineAddress: machine)
        stackConfig.mtu = config.packetMTU
        sessions[id] = PacketSession(id: id, tunnel: tunnel, targetHost: targetAddress, config: stackConfig)
        Console.detail(config.machineName, "A peer connected from \(message.client ?? "?") (session \(id)); it sees this machine as \(machine).")
    }

    private func closeSessions() {
        for session in sessions.values { session.close() }
        sessions.removeAll()
    }

    public func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        guard let request = OpenRequest.decode(metadata) else {
            return tunnel.reset(stream: stream, code: .protocolError, reason: "malformed open request")
        }
        // Only the configured ports of the configured machine: a share is never an open proxy.
        let port: UInt16?
        switch request.service {
        case .http: port = config.disableHTTP ? nil : config.httpPort
        case .https: port = config.httpsPort
        case .tcp:
            // SOCKS CONNECT of a connect session: any port, of this machine only.
            port = request.session.flatMap { sessions[$0] } != nil ? request.port : nil
        }
        guard let port else {
            return tunnel.reset(stream: stream, code: .refused, reason: "this share does not offer \(request.service.rawValue)")
        }
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

    public func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {
        guard self.tunnel === tunnel else { return }
        self.tunnel = nil
        // The relay ends every connect session with the connection; peers rejoin.
        closeSessions()
        if exitStatus != nil { return loop.stop() }
        if ending { return finish(0, notice: "The share \(name ?? "") has ended.") }
        connectionLost(error)
    }

    private func connectionLost(_ error: Error?) {
        let why = error.map { "\($0)" } ?? "the relay closed the connection"
        guard live else {
            // Nothing to keep alive yet: a wrong address or CA is better reported than retried.
            if (error as? TLSError)?.isCertificateFailure == true {
                return finish(1, error: "cannot verify the relay's TLS certificate (\(why)). Pass the relay's CA with --relay-ca (the relay prints its path; usually DATA_DIR/ca.pem).")
            }
            return finish(1, error: "cannot connect to the relay at \(config.relay): \(why). Is the relay running, and is --relay right?")
        }
        Console.headline(config.machineName, "Lost the connection to the relay (\(why)); reconnecting in \(Int(backoff)) s...")
        let delay = backoff
        backoff = min(backoff * 2, config.reconnectDelay.max)
        loop.schedule(after: delay) { [weak self] in self?.connect() }
    }

    // MARK: Ending

    private func interrupted() {
        guard !ending else { return finish(0, notice: "Stopped.") }
        ending = true
        guard live, let tunnel, tunnel.isOpen else { return finish(0, notice: "Stopped.") }
        Console.headline(config.machineName, "Ending the share...")
        tunnel.sendControl(ControlMessage(kind: .endShare).encoded())
        // The relay answers at once; don't hang on a relay that doesn't.
        loop.schedule(after: 3) { [weak self] in self?.finish(0, notice: "The relay did not confirm the end of the share; exiting.") }
    }

    private func finish(_ status: Int32, notice: String? = nil, error: String? = nil) {
        guard exitStatus == nil else { return }
        exitStatus = status
        if let notice { Console.headline(config.machineName, notice) }
        if let error { Console.error("error: \(error)") }
        if let tunnel, tunnel.isOpen {
            tunnel.closeAfterFlushing()
            loop.schedule(after: 1) { [weak self] in self?.loop.stop() }
        } else {
            loop.stop()
        }
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
