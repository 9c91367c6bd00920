import Console
import PacketStack
import Transport
import Wire

/// One connect peer of the share, end to end: the mux runs inside TLS 1.3 keyed from the connect
/// code (`EndToEndHandshake`), over a data connection the relay only copies. The peer's HELLO
/// names the IP it gives the machine; its packets (DATAGRAM frames) feed this session's own
/// `PacketSession`, and each stream it opens is a dial to a port the share's `ConnectScope`
/// allows — of the share's own target, never an address from the peer. The agent opens nothing
/// toward the peer. Confined to the agent's loop.
///
/// The agent answers the peer's HELLO (not before: the answer says whether the peer got its old
/// session back) with this session's resume ID; if the link breaks, the packet session waits under
/// that ID (`ShareAgent+Resume`).
final class PeerSession: TunnelConnectionDelegate {
    let id: UInt32
    let client: String
    let tunnel: TunnelConnection
    private unowned let agent: ShareAgent
    private(set) var packets: PacketSession?
    private var greeted = false
    /// Names this session's packets to the peer, for a resume after a broken link; used once.
    let resumeID = ShareAgent.newResumeID()
    /// The peer said it is leaving for good (`leaving`): its packets are not kept for a resume.
    private(set) var leaving = false
    /// Test only (`ForgedPackets`): behave like a modified agent after the peer's first packet.
    private var forgeToPort = ForgedPackets.port

    init(id: UInt32, client: String, tls: TLSConnection, agent: ShareAgent) {
        self.id = id
        self.client = client
        self.agent = agent
        tunnel = TunnelConnection(tls: tls, role: .listener, config: agent.config.mux)
        tunnel.delegate = self
        tunnel.context = self   // the connection keeps its session alive
    }

    func start() throws(SystemError) {
        try tunnel.start()
    }

    func close() {
        packets?.close()
        packets = nil
        tunnel.close()
    }

    // MARK: TunnelConnectionDelegate

    func tunnelDidConnect(_ tunnel: TunnelConnection) {
        tunnel.onDatagramRoom = { [weak self] in
            guard let packets = self?.packets, packets.waitingForTunnel else { return }
            packets.tunnelHasRoom()
        }
    }

    func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {
        guard !greeted else { return }
        greeted = true
        guard version == TunnelProtocol.version else {
            tunnel.sendHello(HelloBody(role: .share))   // a connection's first frame is a HELLO
            return tunnel.refuse(.unsupportedVersion, "this share speaks protocol \(TunnelProtocol.version), the peer \(version): use matching vshare versions")
        }
        guard let body, body.role == .connect, let text = body.machineAddress, let machine = IPv4Address(text) else {
            tunnel.sendHello(HelloBody(role: .share))
            return tunnel.refuse(.badRequest, "the peer's HELLO did not name its machine address")
        }
        if let resumed = agent.resumePackets(id: body.resume, machine: machine) {
            resumed.packets.attach(tunnel)
            packets = resumed.packets
            tunnel.sendHello(HelloBody(role: .share, resume: resumeID, resumed: true))
            return Console.detail(agent.config.machineName, "The peer of session \(resumed.session) came back from \(client) (session \(id)) and resumed: its connections through \(machine) carry on.")
        }
        tunnel.sendHello(HelloBody(role: .share, resume: resumeID, resumed: body.resume == nil ? nil : false))
        var stackConfig = PacketStackConfig(machineAddress: machine)
        stackConfig.mtu = agent.config.packetMTU
        let packets = PacketSession(id: id, tunnel: tunnel, channel: 0, targetHost: agent.targetAddress,
                                    config: stackConfig, scope: agent.scope)
        packets.onTCPDial = { [unowned agent] port in agent.machinePortDialed(port) }
        // The machine-IP path counts against the same caps as streams: one key per packet session
        // (it outlives a resumed link), so one peer's flows cannot take every descriptor.
        let key = ObjectIdentifier(packets)
        packets.admitFlow = { [unowned agent] in agent.flowCaps.admit(session: key) }
        packets.releaseFlows = { [unowned agent] count in for _ in 0..<count { agent.flowCaps.release(session: key) } }
        packets.onClose = { [unowned agent] counters in agent.metrics.packetSessionClosed(counters) }
        self.packets = packets
        Console.detail(agent.config.machineName, "A peer connected from \(client) (session \(id)), end to end; it sees this machine as \(machine).")
    }

    func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {
        if case .leaving? = try? ControlMessage.decode(payload) { leaving = true }
    }

    func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        agent.peerOpened(stream: stream, metadata: metadata, on: tunnel)
    }

    func tunnel(_ tunnel: TunnelConnection, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32) {
        if let port = forgeToPort {
            forgeToPort = nil
            ForgedPackets.start(on: tunnel, firstPacket: bytes, port: port)
        }
        packets?.receive(bytes)
    }

    func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {
        tunnel.context = nil
        let packets = self.packets
        self.packets = nil
        agent.peerLeft(self, packets: packets, error: error)
    }
}
