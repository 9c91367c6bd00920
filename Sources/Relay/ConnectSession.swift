import Console
import Foundation
import Transport
import Wire

/// The relay's side of one `vshare connect` client's control connection: looks up the share it
/// names, moves to that share's loop, and joins its agent. A peer of the whole machine gets a
/// one-time ticket (and so does the agent): the two meet end to end over data connections the
/// relay only copies (`DataConnection`), so this session carries no traffic of theirs. An SSH-only
/// peer (`connect --ssh`) gets no ticket: its streams may reach the share's SSH service only, and
/// the SSH login is its end-to-end protection.
final class ConnectSession: TunnelConnectionDelegate {
    let tunnel: TunnelConnection
    let peer: SocketAddress?
    unowned let relay: RelayServer
    private var share: ShareEntry?
    private weak var agent: AgentSession?
    private(set) var id: UInt32 = 0
    private var requested = false
    /// `connect --ssh`: streams to the SSH service only, no ticket.
    private var sshOnly = false
    /// When the peer joined its share (the store's connect_sessions row is written when it leaves).
    private var joinedAt: Date?
    /// SSH key requests on this connection (a client needs two: `sshParams`, `sshKey`).
    var sshRequests = 0
    var clientIP: String { peer?.host ?? "unknown" }

    private init(tunnel: TunnelConnection, peer: SocketAddress?, relay: RelayServer) {
        self.tunnel = tunnel
        self.peer = peer
        self.relay = relay
    }

    /// Takes over a control connection whose HELLO said `connect`.
    static func adopt(_ tunnel: TunnelConnection, peer: SocketAddress?, relay: RelayServer) {
        let session = ConnectSession(tunnel: tunnel, peer: peer, relay: relay)
        tunnel.delegate = session
        tunnel.context = session
        if relay.limiter.isRefused(session.clientIP) {
            session.refuse(.tooManyRequests, "too many requests for unknown shares from \(session.clientIP); try again later")
        }
    }

    // MARK: TunnelConnectionDelegate

    func tunnelDidConnect(_ tunnel: TunnelConnection) {}
    func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {}

    func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {
        guard !requested else { return refuse(.badRequest, "expected one openSession message") }
        guard let message = tunnel.decodeControlOrRefuse(payload) else { return }
        switch message {
        case .sshParamsRequest(let request): askedForSSHParams(request)
        case .sshKeyRequest(let request): askedForSSHKey(request)
        case .openSession(let request):
            requested = true
            sshOnly = request.ssh == true
            lookUp(name: request.name)
        default: refuse(.badRequest, "expected one openSession message")
        }
    }

    /// Only an SSH-only peer opens streams here, and only to the SSH service: everything else a
    /// peer does with the machine goes through its end-to-end session, which the relay cannot open.
    func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        guard sshOnly, let agent, let request = OpenRequest.decode(metadata), request.service == .ssh else {
            return tunnel.reset(stream: stream, code: .refused, reason: "through the relay a peer reaches only the share's SSH service; use the connect code for the rest")
        }
        let forward = OpenRequest(service: .ssh, client: clientIP, confirm: request.confirm)
        guard let agentStream = agent.tunnel.open(metadata: forward.encoded(), handler: nil) else {
            return tunnel.reset(stream: stream, code: .refused, reason: "the share's tunnel takes no more streams")
        }
        spliceStreams(client: (tunnel, stream), agent: (agent.tunnel, agentStream))
    }

    func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {
        tunnel.context = nil
        agent?.detach(self)
        agent = nil
        // Whether the peer left or was told to (its agent went, the share ended, the relay stops):
        // a joined session is counted out exactly once, here.
        if let share, let joinedAt {
            Console.headline("relay", "Peer \(clientIP) left share \(share.name) (session \(id)).")
            relay.store?.connectSession(share: share.name, client: clientIP, startedAt: joinedAt)
            share.traffic.peerLeft()
            relay.metrics.sessionClosed()
        }
    }

    // MARK: Called by the agent's session (same loop)

    /// The share's agent disconnected (it may resume the share): the peer retries later.
    func agentLeft() {
        agent = nil
        refuse(.agentUnavailable, "the share's agent disconnected; it may reconnect")
    }

    /// The relay is stopping: the peer hears what agents hear when theirs is away, and retries.
    func relayIsStopping() {
        agent = nil
        refuse(.agentUnavailable, "the relay is restarting")
    }

    /// The share ended: tell the peer and hang up.
    func end(reason: ShareEndReason) {
        agent = nil
        tunnel.sendControl(ControlMessage.shareEnded(ShareEnded(reason: reason)).encoded())
        tunnel.goaway(code: 0, reason: reason.rawValue)
    }

    // MARK: Joining

    private func lookUp(name: String) {
        guard let (entry, loop) = relay.registry.lookup(name) else {
            switch relay.limiter.recordMiss(clientIP) {
            case .allow: return notFound(name)
            case .delay(let seconds): tunnel.loop.schedule(after: seconds) { [weak self] in self?.notFound(name) }; return
            case .refuse:
                Console.throttledHeadline("relay", "Refused \(clientIP): too many requests for unknown shares.")
                return refuse(.tooManyRequests, "too many requests for unknown shares from \(clientIP); try again later")
            }
        }
        tunnel.migrate(to: loop) { [weak self] in
            self?.join(entry, loop: loop)
        }
    }

    private func join(_ entry: ShareEntry, loop: EventLoop) {
        guard tunnel.isOpen else { return }
        guard relay.registry.lookup(entry.name)?.entry === entry else { return notFound(entry.name) }
        guard sshOnly || entry.connectEnabled else {
            return refuse(.connectOff, "share \(entry.name) does not offer connect (its sharer passed --no-connect); its URL still works in a browser")
        }
        guard let agent = relay.registry.agent(of: entry, on: loop) else {
            return refuse(.agentUnavailable, "share \(entry.name) is live but its agent is reconnecting")
        }
        let ticket = sshOnly ? nil : relay.rendezvous.issue(shareName: entry.name)
        guard let id = agent.attach(self, ticket: ticket) else {
            return refuse(.tooManyRequests, "share \(entry.name) has as many peers as it allows (\(AgentSession.maxSessions))")
        }
        share = entry
        self.agent = agent
        self.id = id
        joinedAt = Date()
        entry.traffic.peerJoined()
        relay.metrics.sessionOpened()
        Console.headline("relay", "Peer \(clientIP) joined share \(entry.name) (session \(id)\(sshOnly ? ", SSH only" : "")).")
        let reply = SessionOpened(name: entry.name, session: id, expiresIn: max(0, Int(entry.expiresAt - MonotonicClock.now())),
                                  ticket: ticket.map(Hex.encode))
        tunnel.sendControl(ControlMessage.sessionOpened(reply).encoded())
    }

    func notFound(_ name: String) {
        refuse(.notFound, "there is no share named '\(name)': check the name, or the share has ended")
    }

    func refuse(_ code: ControlError.Code, _ reason: String) {
        tunnel.refuse(code, reason)
    }
}
