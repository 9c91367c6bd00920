import Console
import Transport
import Wire

/// The relay's side of one `vshare connect` client: looks up the share it names, moves to that
/// share's loop, and joins its agent. From then on it forwards, without looking inside:
/// DATAGRAM frames (raw IP packets) between the client (channel 0) and the agent (channel =
/// session id), and each stream the client opens (SOCKS CONNECT) to a stream on the agent's
/// tunnel. Packets are dropped, never queued without bound, when either tunnel is backed up.
final class ConnectSession: TunnelConnectionDelegate {
    let tunnel: TunnelConnection
    let peer: SocketAddress?
    unowned let relay: RelayServer
    private var share: ShareEntry?
    private weak var agent: AgentSession?
    private(set) var id: UInt32 = 0
    private var requested = false
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
            lookUp(name: request.name, machineAddress: request.machineAddress)
        default: refuse(.badRequest, "expected one openSession message")
        }
    }

    func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        guard let agent, let request = OpenRequest.decode(metadata), request.service == .tcp, let port = request.port else {
            return tunnel.reset(stream: stream, code: .refused, reason: "connect clients may open tcp streams to the machine only")
        }
        let forward = OpenRequest(service: .tcp, port: port, client: clientIP, session: id, confirm: request.confirm)
        guard let agentStream = agent.tunnel.open(metadata: forward.encoded(), handler: nil) else {
            return tunnel.reset(stream: stream, code: .refused, reason: "the share's tunnel takes no more streams")
        }
        spliceStreams(client: (tunnel, stream), agent: (agent.tunnel, agentStream))
    }

    func tunnel(_ tunnel: TunnelConnection, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32) {
        guard let agent else { return }
        agent.tunnel.sendDatagram(channel: id, bytes)
    }

    func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {
        tunnel.context = nil
        if let agent {
            agent.detach(self)
            if let share {
                let drops = tunnel.droppedDatagrams
                Console.headline("relay", "Peer \(clientIP) left share \(share.name) (session \(id))"
                                 + (drops > 0 ? "; \(drops) packets for it were dropped (its connection was backed up)." : "."))
            }
        }
        agent = nil
    }

    // MARK: Called by the agent's session (same loop)

    /// A packet from the share agent for this peer.
    func deliver(_ packet: UnsafeRawBufferPointer) {
        _ = tunnel.sendDatagram(channel: 0, packet)
    }

    /// The share's agent disconnected (it may resume the share): the peer retries later.
    func agentLeft() {
        agent = nil
        refuse(.agentUnavailable, "the share's agent disconnected; it may reconnect")
    }

    /// The share ended: tell the peer and hang up.
    func end(reason: ShareEndReason) {
        agent = nil
        tunnel.sendControl(ControlMessage.shareEnded(ShareEnded(reason: reason)).encoded())
        tunnel.goaway(code: 0, reason: reason.rawValue)
    }

    // MARK: Joining

    private func lookUp(name: String, machineAddress: String) {
        guard let (entry, loop) = relay.registry.lookup(name) else {
            switch relay.limiter.recordMiss(clientIP) {
            case .allow: return notFound(name)
            case .delay(let seconds): tunnel.loop.schedule(after: seconds) { [weak self] in self?.notFound(name) }; return
            case .refuse:
                Console.headline("relay", "Refused \(clientIP): too many requests for unknown shares.")
                return refuse(.tooManyRequests, "too many requests for unknown shares from \(clientIP); try again later")
            }
        }
        tunnel.migrate(to: loop) { [weak self] in
            self?.join(entry, loop: loop, machineAddress: machineAddress)
        }
    }

    private func join(_ entry: ShareEntry, loop: EventLoop, machineAddress: String) {
        guard tunnel.isOpen else { return }
        guard relay.registry.lookup(entry.name)?.entry === entry else { return notFound(entry.name) }
        guard let agent = relay.registry.agent(of: entry, on: loop) else {
            return refuse(.agentUnavailable, "share \(entry.name) is live but its agent is reconnecting")
        }
        guard let id = agent.attach(self, machineAddress: machineAddress) else {
            return refuse(.tooManyRequests, "share \(entry.name) has as many peers as it allows (\(AgentSession.maxSessions))")
        }
        share = entry
        self.agent = agent
        self.id = id
        Console.headline("relay", "Peer \(clientIP) joined share \(entry.name) (session \(id)).")
        let reply = SessionOpened(name: entry.name, session: id, expiresIn: max(0, Int(entry.expiresAt - MonotonicClock.now())))
        tunnel.sendControl(ControlMessage.sessionOpened(reply).encoded())
    }

    func notFound(_ name: String) {
        refuse(.notFound, "there is no share named '\(name)': check the name, or the share has ended")
    }

    func refuse(_ code: ControlError.Code, _ reason: String) {
        tunnel.refuse(code, reason)
    }
}
