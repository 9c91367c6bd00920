import Console
import EndToEnd
import Identity
import Pairing
import Transport
import Wire

/// `vshare share`: keeps one TLS connection to the relay (`RelayLink`), holds the share, and serves
/// each stream the relay opens by dialing the shared machine on a port `OpenRequestPolicy` allows,
/// and only that machine. A connect peer that the relay announces (`peerJoined`, with a ticket) is
/// met end to end: a data connection, SPAKE2 over the share's connect code, TLS 1.3
/// (`EndToEndHandshake`), then a `PeerSession` whose packets and streams reach the ports the
/// share's `ConnectScope` allows. Wrong codes are counted (`ConnectGuard`).
public final class ShareAgent: RelayLinkDelegate {
    let config: ShareConfig
    let loop: EventLoop
    let link: RelayLink
    private let policy: OpenRequestPolicy
    /// The machine's address, resolved once at start so no stream waits on DNS.
    let targetAddress: String
    /// Which ports of the machine connect peers reach.
    let scope: ConnectScope
    /// The secret a peer needs besides the name (nil with `--no-connect`). Never sent to the relay.
    let connectCode: String?
    /// SPAKE2's w for this share's name, derived once per share.
    var credentials: PairingCredentials?
    var connectGuard = ConnectGuard()
    private var name: String?
    private var resumeSecret: String?
    private var live = false
    private var ending = false
    private var signals: TerminationSignals?
    /// Pairings in flight and end-to-end peers, by the relay's session id.
    var pairings: [UInt32: EndToEndHandshake] = [:]
    var peers: [UInt32: PeerSession] = [:]
    /// Packet sessions of peers whose link broke, waiting for them to resume (`ShareAgent+Resume`).
    var detached = DetachedSessions<DetachedPeer>(window: ShareAgent.resumeWindow)
    /// For `--metrics` (confined to the loop, like everything here).
    var metrics = ShareMetrics()
    private var metricsEndpoint: MetricsEndpoint?
    /// `--ssh`: the share's SSH key (inserted into the machine, sealed for the relay).
    var sshSetup: SSHShareSetup?
    /// `--basic-auth`: the password's salted scrypt hash, made once (a resume sends the same one).
    private let basicAuth: BasicAuthVerifier?
    /// Connections to the machine open, against caps derived from the descriptor limit.
    var flowCaps = FlowCaps(descriptorLimit: 1024)
    /// Closed just before the SSH key is removed, so that step always has descriptors.
    private var reserve: DescriptorReserve?

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
        scope = ConnectScope(config: config, targetIsThisHost: ConnectScope.targetIsThisHost(targetAddress))
        do {
            connectCode = scope.isOff ? nil : try ConnectCode.generate()
        } catch {
            throw ShareError.target("cannot draw a connect code: \(error)")
        }
        do {
            basicAuth = try config.basicAuth.map { credentials throws(BasicAuthHash.Failure) in
                try BasicAuthHash.make(user: credentials.user, password: credentials.password)
            }
        } catch {
            throw ShareError.basicAuth(error.description)
        }
        link = RelayLink(endpoint: relay, role: .share, loop: loop, mux: config.mux, backoff: config.reconnect,
                         label: config.machineName)
        link.delegate = self
    }

    /// Runs until the share ends; returns the process exit status.
    public func run() -> Int32 {
        TerminationSignals.block()
        // Every flow is a descriptor: the default soft limit (often 1024) is too low for a busy share.
        flowCaps = FlowCaps(descriptorLimit: ProcessLimits.raiseOpenFileLimit() ?? 1024)
        reserve = DescriptorReserve(count: 16)
        MemoryTrimmer.start(on: loop)
        let machine = config.machineName
        Console.headline(machine, "Detecting network information for machine...")
        Console.detail(machine, "Local machine address: \(config.target)")
        Console.detail(machine, "Local HTTP port: \(config.disableHTTP ? "disabled" : String(config.httpPort))")
        Console.detail(machine, "Local HTTPS port: \(config.httpsPort.map(String.init) ?? "disabled")")
        // The rules, never the password: the relay holds only its hash.
        if let user = config.basicAuth?.user { Console.detail(machine, "Basic auth: user \(user)") }
        if !config.allowIP.isEmpty {
            Console.detail(machine, "Allowed addresses: \(config.allowIP.map(\.description).joined(separator: ", "))")
        }
        if config.ssh != nil, !prepareSSH() { return 1 }
        Console.headline(machine, "Checking authentication and authorization...")
        if sshSetup != nil, !checkSSH() { return 1 }
        do {
            signals = try TerminationSignals(loop: loop) { [unowned self] _ in self.interrupted() }
        } catch {
            Console.error("error: \(error)")
            return 1
        }
        if let address = config.metrics {
            do {
                metricsEndpoint = try MetricsEndpoint(address: address, loop: loop) { [unowned self] in
                    PrometheusText.render(self.metrics.families(live: self.live, peersLive: self.peers.count,
                                                                liveSessions: self.livePacketCounters(),
                                                                loopBusySeconds: self.loop.busySeconds))
                }
            } catch {
                Console.error("error: cannot serve metrics on \(address): \(error). Choose another address with --metrics.")
                return 1
            }
            Console.detail(machine, "Metrics: http://\(metricsEndpoint!.address)/metrics")
        }
        link.start()
        loop.run()
        closePeers()
        reserve?.release()
        sshSetup?.cleanUp()
        return link.exitStatus ?? 0
    }

    // MARK: The relay

    public func relayLinkDidConnect(_ link: RelayLink, tunnel: TunnelConnection) {
        if name == nil { Console.headline(config.machineName, "Creating share session...") }
        metrics.relayConnections += 1
        let resume = name.flatMap { name in resumeSecret.map { CreateShare.Resume(name: name, secret: $0) } }
        link.send(.createShare(CreateShare(token: config.token, httpEnabled: !config.disableHTTP,
                                           httpsEnabled: config.httpsPort != nil, resume: resume, ssh: sshSetup?.blob,
                                           connect: connectCode != nil, basicAuth: basicAuth,
                                           allowIP: config.allowIP.isEmpty ? nil : config.allowIP,
                                           target: targetDescription)))
    }

    /// What the relay's history shows for this share: the machine and its shared ports.
    private var targetDescription: String {
        var ports: [String] = []
        if !config.disableHTTP { ports.append("http \(config.httpPort)") }
        if let https = config.httpsPort { ports.append("https \(https)") }
        if let ssh = config.ssh { ports.append("ssh \(ssh.port)") }
        return ([config.target] + ports).joined(separator: ", ")
    }

    public func relayLink(_ link: RelayLink, didReceive message: ControlMessage, on tunnel: TunnelConnection) {
        switch message {
        case .shareCreated(let created): shareCreated(created)
        case .shareEnded(let ended):
            switch ended.reason {
            case .expired: link.finish(0, notice: "The share \(name ?? "") expired; exiting.")
            case .ended, .abandoned: link.finish(0, notice: "The share \(name ?? "") has ended.")
            case .expiredFromWeb: link.finish(0, notice: "The share \(name ?? "") was expired from the web interface.")
            }
        case .error(let refusal):
            switch refusal.code {
            case .unauthorized: link.finish(1, error: "authentication failed: \(TerminalText.sanitized(refusal.reason))")
            default: link.finish(1, error: TerminalText.sanitized(refusal.reason))
            }
        case .peerJoined(let peer): pair(with: peer)
        case .sshKeyReleased: sshSetup?.markReleased()
        default:
            break
        }
    }

    private func shareCreated(_ created: ShareCreated) {
        let machine = config.machineName
        link.requestAccepted()
        let shownName = TerminalText.sanitized(created.name)   // the relay's words, printed as text only
        if live && created.name == name {
            Console.headline(machine, "Reconnected to the relay; the share \(shownName) is still live.")
        } else {
            if live { Console.headline(machine, "The relay no longer held the old share; this is a new one.") }
            Console.detail(machine, "Share will be at: \(shownName)")
            Console.headline(machine, "Your vshare is running! Name: \(shownName)")
            if let url = created.url { Console.headline(machine, "URL: \(TerminalText.sanitized(url))") }
            if let https = created.httpsAddress { Console.headline(machine, "HTTPS URL: \(TerminalText.sanitized(https))") }
            announceConnect(name: created.name)
            sshSetup?.setExpiryInBackground(expiresIn: created.expiresIn)
            Console.detail(machine, "The share expires in \(DurationSyntax.format(seconds: max(created.expiresIn, 1))). Press Ctrl-C to end it sooner.")
        }
        name = created.name
        resumeSecret = created.resumeSecret
        live = true
    }

    public func relayLink(_ link: RelayLink, didOpen stream: UInt32, metadata: [UInt8], on tunnel: TunnelConnection) {
        switch policy.verdict(for: metadata) {
        case .dial(let port, let request): dial(port: port, for: request, stream: stream, on: tunnel)
        case .reset(let code, let reason):
            metrics.streamsRefused += 1
            tunnel.reset(stream: stream, code: code, reason: reason)
        }
    }

    /// Joins `stream` to a new connection to `port` of the machine (the policy's port, our own target).
    /// `session`: the connect session the stream belongs to (nil for the relay's public clients).
    func dial(port: UInt16, for request: OpenRequest, stream: UInt32, on tunnel: TunnelConnection,
              session: ObjectIdentifier? = nil) {
        guard flowCaps.admit(session: session) else {
            // Not `.refused`: the machine did not refuse anything, the agent is out of room.
            return tunnel.reset(stream: stream, code: .internalError,
                                reason: "the share has too many connections to the machine open; try again in a moment")
        }
        // Once, whether the flow ends or never starts (a failed start also ends the bridge).
        var released = false
        let releaseFlow = { [weak self] in
            if !released { released = true; self?.flowCaps.release(session: session) }
        }
        metrics.streamOpened(request.service)
        do {
            let target = try SocketAddress(host: targetAddress, port: port)
            let socket = try Socket.connect(to: target)
            let bridge = StreamSocketBridge(tunnel: tunnel, stream: stream, socket: socket, connecting: true)
            bridge.targetDescription = "the machine at \(target)"
            bridge.onClose = releaseFlow
            if request.service == .ssh || request.service == .tcp, let setup = sshSetup, port == setup.options.port, setup.armOnce() {
                sshOnceStarted(setup, bridge: bridge)
            }
            if request.confirm == true {
                bridge.onConnectResult = { [weak tunnel] failure in
                    if failure == nil { tunnel?.sendConnected(stream: stream) }
                }
            }
            try bridge.start()
        } catch {
            metrics.dialFailures += 1
            releaseFlow()
            tunnel.reset(stream: stream, code: .unreachable, reason: "cannot reach the machine: \(error)")
        }
    }

    /// Peers ride their own data connections and end with them (a peer hears from the relay that
    /// this agent is away, and rejoins once it is back).
    public func relayLinkDidDisconnect(_ link: RelayLink) {}

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
    case basicAuth(String)

    public var description: String {
        switch self {
        case .system(let error): return "\(error)"
        case .relay(let failure): return "\(failure)"
        case .target(let why): return "bad --target: \(why)"
        case .basicAuth(let why): return "cannot hash the --basic-auth password: \(why)"
        }
    }
}
