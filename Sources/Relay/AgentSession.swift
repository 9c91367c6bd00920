import Console
import Identity
import Transport
import Wire

/// The relay's side of one agent's control connection: authenticates the share agent, creates or
/// resumes its share, and ends it. Public connections for the share open streams on `tunnel`;
/// a connect client that joins is announced to the agent with a ticket (`peerJoined`), and the two
/// meet over data connections the relay only copies (`DataConnection`).
/// A control connection whose HELLO says `connect` is handed to a `ConnectSession` instead.
final class AgentSession: TunnelConnectionDelegate {
    let tunnel: TunnelConnection
    let peer: SocketAddress?
    private unowned let relay: RelayServer
    private(set) var share: ShareEntry?
    private var helloTimer: UInt64?
    private var greeted = false
    /// Connect clients of this share, by session id. Same loop as the agent.
    private var sessions: [UInt32: ConnectSession] = [:]
    private var lastSessionID: UInt32 = 0
    static let maxSessions = 256

    private init(tunnel: TunnelConnection, peer: SocketAddress?, relay: RelayServer) {
        self.tunnel = tunnel
        self.peer = peer
        self.relay = relay
    }

    static func accept(socket: Socket, peer: SocketAddress?, relay: RelayServer, loop: EventLoop) {
        do {
            let tls = try TLSConnection(socket: socket, context: relay.tlsContext, loop: loop, peerAddress: peer)
            let tunnel = TunnelConnection(tls: tls, role: .listener, config: relay.config.mux)
            tunnel.memoryBudget = relay.memoryBudget
            let session = AgentSession(tunnel: tunnel, peer: peer, relay: relay)
            tunnel.delegate = session
            tunnel.context = session   // the connection keeps its session alive
            try tunnel.start()
        } catch {
            Console.error("==> relay: dropped a control connection from \(peer?.description ?? "?"): \(error)")
        }
    }

    var loop: EventLoop { tunnel.loop }

    // MARK: TunnelConnectionDelegate

    func tunnelDidConnect(_ tunnel: TunnelConnection) {
        tunnel.sendHello(HelloBody(role: .relay))
        // An agent that completes TLS but never says hello is dropped.
        helloTimer = loop.schedule(after: 10) { [weak self] in
            guard let self, !self.greeted else { return }
            self.tunnel.close()
        }
    }

    func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {
        greeted = true
        if let helloTimer { loop.cancelTimer(helloTimer) }
        // Then its request (createShare, openSession, an SSH key request) must follow: a connection
        // that says hello and nothing more would hold a descriptor and a TLS session for free.
        loop.schedule(after: relay.config.joinTimeout) { [weak tunnel] in
            guard let tunnel, tunnel.isOpen, tunnel.controlMessagesReceived == 0 else { return }
            tunnel.close()
        }
        guard version == TunnelProtocol.version else {
            refuse(.unsupportedVersion, "this relay speaks tunnel protocol \(TunnelProtocol.version), the agent \(version): use matching vshare versions")
            return
        }
        guard let hello = body else {
            refuse(.badRequest, "the agent's HELLO carried no role")
            return
        }
        switch hello.role {
        case .share: break
        case .connect: ConnectSession.adopt(tunnel, peer: peer, relay: relay)
        case .relay: refuse(.badRequest, "this relay port serves share and connect agents")
        }
    }

    func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {
        guard greeted else { return refuse(.badRequest, "control message before HELLO") }
        guard let message = tunnel.decodeControlOrRefuse(payload) else { return }
        switch message {
        case .createShare(let request): createShare(request)
        case .endShare: endShare()
        default: refuse(.badRequest, "unexpected \(message.kind.rawValue) message from an agent")
        }
    }

    func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        // Share agents never open streams towards the relay.
        tunnel.reset(stream: stream, code: .refused, reason: "agents may not open streams")
    }

    func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {
        tunnel.context = nil
        // The share may come back (the agent resumes it): peers are told to retry, not that it ended.
        for session in sessions.values { session.agentLeft() }
        sessions.removeAll()
        if let share {
            relay.registry.detach(share, agent: self)
            if relay.registry.lookup(share.name) != nil {
                Console.headline("relay", "Agent of share \(share.name) disconnected; holding the share for \(Int(relay.config.reconnectGrace)) s.")
            }
        }
    }

    // MARK: Share lifecycle

    private func createShare(_ message: CreateShare) {
        guard share == nil else { return refuse(.badRequest, "this connection already has a share") }
        guard let token = message.token, let owner = relay.owner(forToken: token) else {
            Console.throttledHeadline("relay", "Refused a share from \(peer?.host ?? "?"): wrong or missing token.")
            relay.store?.audit(actor: peer?.host ?? "?", action: "share.refused", detail: "wrong or missing token")
            return refuse(.unauthorized, "the relay refused the token. Pass a user's token (`vshare relay user token NAME` on the relay), or the owner token from the relay's data directory (DIR/token), with --token or VSHARE_TOKEN.")
        }
        if let resume = message.resume,
           let entry = relay.registry.resume(name: resume.name, secret: resume.secret, loop: loop, agent: self) {
            share = entry
            Console.headline("relay", "Share \(resume.name) resumed by its agent from \(peer?.host ?? "?").")
            return confirm(entry)
        }
        if let ssh = message.ssh, !ssh.isWellFormed {
            return refuse(.badRequest, "the share's SSH key blob is malformed or uses unsupported parameters")
        }
        if let basicAuth = message.basicAuth {
            guard BasicAuthHash.isAcceptable(basicAuth) else {
                return refuse(.badRequest, "the share's basic-auth record is malformed or asks for more scrypt work than the relay does per request")
            }
            // Passthrough TLS is never decrypted: a password there could not be asked for.
            guard !message.httpsEnabled else {
                return refuse(.badRequest, "--basic-auth protects the HTTP URL only and cannot be combined with --https")
            }
        }
        let networks = message.allowIP ?? []
        let entry = relay.registry.create(httpEnabled: message.httpEnabled, httpsEnabled: message.httpsEnabled,
                                          connectEnabled: message.connect,
                                          ttl: relay.shareTTL, loop: loop, agent: self, ssh: message.ssh,
                                          owner: owner, target: message.target ?? "") { name in
            ShareAccess.rules(of: message, shareName: name)
        }
        share = entry
        relay.recordShareCreated(entry, owner: owner, request: message)
        Console.headline("relay", "Share \(entry.name) created by \(peer?.host ?? "?"); expires in \(DurationSyntax.format(seconds: max(1, Int(entry.expiresAt - MonotonicClock.now())))).")
        if let ssh = message.ssh { Console.detail("relay", "Share \(entry.name) offers SSH\(ssh.once ? " (key released once)" : "").") }
        if let user = message.basicAuth?.user { Console.detail("relay", "Share \(entry.name) asks for basic auth (user \(user)).") }
        if !networks.isEmpty {
            Console.detail("relay", "Share \(entry.name) allows only \(networks.map(\.description).joined(separator: ", ")).")
        }
        confirm(entry)
    }

    private func confirm(_ entry: ShareEntry) {
        let reply = ShareCreated(
            name: entry.name, resumeSecret: entry.resumeSecret,
            url: entry.httpEnabled ? relay.config.publicURL(for: entry.name) : nil,
            httpsAddress: entry.httpsEnabled ? relay.config.httpsAddress(for: entry.name) : nil,
            expiresIn: max(0, Int(entry.expiresAt - MonotonicClock.now())))
        tunnel.sendControl(ControlMessage.shareCreated(reply).encoded())
    }

    private func endShare() {
        guard let share else { return refuse(.badRequest, "there is no share to end") }
        relay.registry.remove(share)
        relay.recordShareEnded(share.name, reason: .agentStopped, by: share.owner?.name ?? "agent")
        Console.headline("relay", "Share \(share.name) ended by its agent.")
        shareWasEnded(reason: .ended)
    }

    /// The relay is stopping: its peers and the agent hear GOAWAY and reconnect once a relay is back;
    /// the share stays in the database, so the agent resumes it under the same name.
    func relayIsStopping() {
        let peers = sessions.values
        sessions.removeAll()
        for session in peers { session.relayIsStopping() }
        tunnel.goaway(code: 0, reason: "the relay is restarting")
    }

    /// The share is over (ended, expired, abandoned): tell the agent and hang up.
    func shareWasEnded(reason: ShareEndReason) {
        endSessions(reason: reason)
        share = nil
        tunnel.sendControl(ControlMessage.shareEnded(ShareEnded(reason: reason)).encoded())
        tunnel.goaway(code: 0, reason: reason.rawValue)
    }

    /// `--ssh-once`: the share's key went to a peer (see `ShareRegistry.releaseSSHKey`).
    func sshKeyWasReleased() {
        tunnel.sendControl(ControlMessage.sshKeyReleased.encoded())
    }

    // MARK: Connect sessions

    /// A connect client joins: it gets a session id. With a ticket (an end-to-end session, not
    /// SSH only) the agent is told to open its data connection. Returns nil when the share has as
    /// many peers as it may.
    func attach(_ session: ConnectSession, ticket: [UInt8]?) -> UInt32? {
        guard sessions.count < Self.maxSessions, lastSessionID < UInt32.max else { return nil }
        lastSessionID += 1
        sessions[lastSessionID] = session
        if let ticket {
            let joined = PeerJoined(session: lastSessionID, client: session.peer?.host, ticket: Hex.encode(ticket))
            tunnel.sendControl(ControlMessage.peerJoined(joined).encoded())
        }
        return lastSessionID
    }

    func detach(_ session: ConnectSession) {
        guard sessions[session.id] === session else { return }
        sessions[session.id] = nil
    }

    private func endSessions(reason: ShareEndReason) {
        let ending = sessions.values
        sessions.removeAll()
        for session in ending { session.end(reason: reason) }
    }

    private func refuse(_ code: ControlError.Code, _ reason: String) {
        tunnel.refuse(code, reason)
    }
}
