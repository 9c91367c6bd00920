import PacketStack
import Transport
import Wire

/// One connect peer's packets on the share side. Raw IPv4 packets arrive as DATAGRAM frames of
/// its end-to-end session; a `PacketStack` of this session's own terminates their TCP and UDP flows
/// at the machine IP, and each flow becomes a real socket to the same port of the target — the
/// target only, and only a port the share's `ConnectScope` allows (others get an RST or an ICMP
/// port unreachable): the stack drops packets for any other address, and sockets are dialed here,
/// never to an address taken from a packet. Confined to the agent's loop.
///
/// Work is batched per loop turn: packets and socket events feed the stack, then at the end of
/// the turn `service()` handles the stack's events, sends its packets, and re-arms its timer.
///
/// The session outlives a broken link for a while (`DetachedSessions`): detached, it keeps its
/// stack and its sockets to the machine and drops what the stack sends (the inner TCP retransmits);
/// a peer that resumes attaches its new tunnel.
final class PacketSession {
    let id: UInt32
    let stack: PacketStack
    let loop: EventLoop
    /// Nil while detached.
    private var tunnel: (any TunnelDatagrams)?
    /// The DATAGRAM channel the session's packets use.
    private let channel: UInt32
    private let targetHost: String
    private let scope: ConnectScope
    private var tcpFlows: [FlowID: TCPFlowEndpoint] = [:]
    private var udpFlows: [FlowID: UDPFlowSocket] = [:]
    private var serviceScheduled = false
    private var timer: UInt64?
    private var timerAt = Double.infinity
    private(set) var closed = false
    /// Told of each TCP port of the target dialed for a flow of this session (`--ssh-once` counts
    /// logins over the machine IP, not only SSH streams).
    var onTCPDial: ((UInt16) -> Void)?
    /// The agent's flow caps (`FlowCaps`): asked before a flow's socket to the machine is made (a
    /// refused TCP flow gets an RST, a UDP one port unreachable), told how many went when they go.
    var admitFlow: () -> Bool = { true }
    var releaseFlows: (Int) -> Void = { _ in }
    /// Told once, when the session closes, of its packet counters (the agent's metrics keep them).
    var onClose: (StackCounters) -> Void = { _ in }
    /// The tunnel had no room for the stack's packets; retried when it drains.
    private(set) var waitingForTunnel = false
    /// One buffer for every socket read of this session (all on one thread; a read is handed on
    /// within the call).
    let scratch: UnsafeMutableRawBufferPointer

    init(id: UInt32, tunnel: any TunnelDatagrams, channel: UInt32, targetHost: String, config: PacketStackConfig,
         scope: ConnectScope) {
        self.id = id
        self.tunnel = tunnel
        self.channel = channel
        self.scope = scope
        self.loop = tunnel.loop
        self.targetHost = targetHost
        stack = PacketStack(config: config)
        scratch = .allocate(byteCount: 256 * 1024, alignment: 16)
    }

    deinit { scratch.deallocate() }

    /// A packet from the peer.
    func receive(_ packet: UnsafeRawBufferPointer) {
        guard !closed else { return }
        stack.receive(packet: packet, now: MonotonicClock.now())
        scheduleService()
    }

    /// The peer's tunnel: a new one when the peer resumed, nil when its link broke.
    func attach(_ tunnel: (any TunnelDatagrams)?) {
        self.tunnel = tunnel
        waitingForTunnel = false
        scheduleService()
    }

    /// The tunnel drained: send what waited.
    func tunnelHasRoom() {
        waitingForTunnel = false
        scheduleService()
    }

    func close() {
        guard !closed else { return }
        closed = true
        if let timer { loop.cancelTimer(timer) }
        for flow in tcpFlows.values { flow.gone(because: "the session ended") }
        for flow in udpFlows.values { flow.close() }
        releaseFlows(tcpFlows.count + udpFlows.count)
        tcpFlows.removeAll()
        udpFlows.removeAll()
        onClose(stack.counters)
    }

    // MARK: Servicing the stack

    func scheduleService() {
        guard !serviceScheduled, !closed else { return }
        serviceScheduled = true
        loop.atEndOfTurn { [weak self] in self?.service() }
    }

    private func service() {
        serviceScheduled = false
        guard !closed else { return }
        while let event = stack.nextEvent() { handle(event) }
        transmit()
        armTimer()
    }

    private func handle(_ event: StackEvent) {
        switch event {
        case .tcpConnect(let flow, let port):
            dialTCP(flow, port: port)
        case .tcpReceived(let flow):
            tcpFlows[flow]?.stackReceived()
        case .tcpPeerFinished(let flow):
            tcpFlows[flow]?.stackPeerFinished()
        case .tcpWritable(let flow):
            tcpFlows[flow]?.stackWritable()
        case .tcpClosed(let flow, _):
            if let ended = tcpFlows.removeValue(forKey: flow) {
                releaseFlows(1)
                ended.gone(because: "the peer's connection ended")
            }
        case .udpFlowOpened(let flow, let port):
            openUDP(flow, port: port)
        case .udpReceived(let flow, let payload):
            udpFlows[flow]?.send(payload)
        case .udpFlowExpired(let flow):
            if let ended = udpFlows.removeValue(forKey: flow) {
                releaseFlows(1)
                ended.close()
            }
        }
    }

    private func transmit() {
        guard !waitingForTunnel else { return }
        guard let tunnel else {
            stack.transmit { _ in true }   // detached: lost, as on a cut cable
            return
        }
        var blocked = false
        stack.transmit { packet in
            guard tunnel.hasDatagramRoom(for: packet.count) else {
                blocked = true
                return false
            }
            tunnel.sendDatagram(channel: channel, packet)
            return true
        }
        if blocked {
            waitingForTunnel = true
            tunnel.notifyWhenDatagramRoom()
        }
    }

    private func armTimer() {
        guard let deadline = stack.nextDeadline else { return }
        // Keep an earlier timer; a later one still fires and re-arms from the stack's deadline.
        guard deadline < timerAt else { return }
        if let timer { loop.cancelTimer(timer) }
        timerAt = deadline
        timer = loop.schedule(after: max(0, deadline - MonotonicClock.now())) { [weak self] in
            guard let self, !self.closed else { return }
            self.timer = nil
            self.timerAt = .infinity
            self.stack.advance(now: MonotonicClock.now())
            self.service()
        }
    }

    // MARK: Flows

    private func dialTCP(_ flow: FlowID, port: UInt16) {
        guard scope.allows(port: port), admitFlow() else { return stack.tcpRefused(flow) }
        let address: SocketAddress
        let socket: Socket
        do {
            address = try SocketAddress(host: targetHost, port: port)
            socket = try Socket.connect(to: address)
        } catch {
            releaseFlows(1)
            return stack.tcpRefused(flow)
        }
        let machine = SocketEndpoint(socket: socket, loop: loop, connecting: true,
                                     description: "the machine at \(address)", readBuffer: scratch)
        let endpoint = TCPFlowEndpoint(flow: flow, session: self)
        tcpFlows[flow] = endpoint
        onTCPDial?(port)
        // The dial's outcome reaches the flow through the pump: connected → the stack answers the
        // SYN; refused or timed out → the peer gets an RST. A failed start resets (refuses) it too.
        try? Pump(machine, endpoint).start()
    }

    private func openUDP(_ flow: FlowID, port: UInt16) {
        guard scope.allows(port: port), admitFlow() else { return stack.udpUnreachable(flow) }
        do {
            let address = try SocketAddress(host: targetHost, port: port)
            let flowSocket = UDPFlowSocket(flow: flow, socket: try DatagramSocket.connected(to: address), session: self)
            udpFlows[flow] = flowSocket
            try flowSocket.start()
        } catch {
            udpFlows.removeValue(forKey: flow)?.close()
            releaseFlows(1)
            stack.udpUnreachable(flow)
        }
    }

    /// A flow's socket failed or was refused: it is gone from the table (the stack was told).
    func forget(tcp flow: FlowID) { if tcpFlows.removeValue(forKey: flow) != nil { releaseFlows(1) } }
    func forget(udp flow: FlowID) { if udpFlows.removeValue(forKey: flow) != nil { releaseFlows(1) } }
}
