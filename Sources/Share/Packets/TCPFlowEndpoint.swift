import PacketStack
import Transport
import Wire

/// One TCP flow of a connect session's `PacketStack` as a `ByteEndpoint`: the peer's side of a
/// connection whose machine side is a socket (`SocketEndpoint`), joined by a `Pump`.
///
/// Backpressure both ways comes from the stack's own buffers: the pump reads the machine's socket
/// only while the flow's send buffer has room (`sendCapacity`), and bytes leave the receive ring
/// (reopening the advertised window) only as far as the socket took them (`readTCP` lends the ring).
/// Every change is followed by `scheduleService`, so the stack's packets go out at the end of the turn.
final class TCPFlowEndpoint: ByteEndpoint {
    var events: ByteEndpointEvents?
    let flow: FlowID
    private unowned let session: PacketSession
    private var stack: PacketStack { session.stack }
    private var connected = false        // the machine accepted: the stack answered the SYN
    private var peerFinished = false     // the peer's FIN came and its bytes were read
    private var finishReported = false
    private var wantsWritable = false
    /// The socket took less than offered: the pump asked it to say when it has room, so new peer
    /// segments wait in the ring instead of each trying a write the socket would refuse.
    private var sinkBlocked = false
    private var closed = false

    init(flow: FlowID, session: PacketSession) {
        self.flow = flow
        self.session = session
    }

    func start() throws(SystemError) {}

    // MARK: Stack events (from PacketSession.service)

    /// Peer bytes wait in the receive ring.
    func stackReceived() {
        if !sinkBlocked { deliverReceived() }
    }

    func stackPeerFinished() {
        peerFinished = true
        if !sinkBlocked { deliverReceived() }
    }

    func stackWritable() {
        guard wantsWritable, !closed else { return }
        wantsWritable = false
        events?.endpointIsWritable(self)
    }

    /// The flow is gone (the stack closed it, or the session ended): the machine's socket is reset.
    func gone(because reason: String) {
        guard !closed else { return }
        closed = true
        events?.endpoint(self, didReset: .cancelled, reason: reason)
    }

    // MARK: Source (peer → machine)

    /// The socket has room again (the pump).
    func resumeReading() {
        sinkBlocked = false
        deliverReceived()
    }

    /// Hands what the ring holds to the socket, as far as it takes it; the peer's FIN once all went.
    private func deliverReceived() {
        guard !closed, connected else { return }
        stack.readTCP(flow) { bytes in
            guard !sinkBlocked, !closed else { return 0 }
            let taken = events?.endpoint(self, didRead: bytes) ?? 0
            if taken < bytes.count { sinkBlocked = true }
            return taken
        }
        guard !closed else { return }
        if peerFinished && !finishReported && stack.receivedCount(flow) == 0 {
            finishReported = true
            events?.endpointDidFinishReading(self)
        }
        session.scheduleService()
    }

    // MARK: Sink (machine → peer)

    var writeCapacity: Int { closed || !connected ? 0 : stack.sendCapacity(flow) }

    func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard !closed, connected else { return 0 }
        let taken = stack.writeTCP(flow, bytes, now: MonotonicClock.now())
        session.scheduleService()
        return taken
    }

    /// The stack announces room itself (`tcpWritable`) after a short write or a zero capacity.
    func notifyWhenWritable() { wantsWritable = true }

    func finishWriting() {
        guard !closed else { return }
        stack.finishTCP(flow, now: MonotonicClock.now())
        session.scheduleService()
    }

    /// The machine accepted the connection: the stack answers the peer's SYN.
    func otherSideConnected() {
        guard !closed else { return }
        connected = true
        stack.tcpConnected(flow, now: MonotonicClock.now())
        session.scheduleService()
    }

    // MARK: Ending

    /// Before the machine accepted, the peer sees "connection refused" (RST to its SYN), as from a
    /// closed port; afterwards an RST aborts the connection.
    func reset(code: ResetCode, reason: String) {
        guard !closed else { return }
        closed = true
        if connected { stack.abortTCP(flow) } else { stack.tcpRefused(flow) }
        session.forget(tcp: flow)
        session.scheduleService()
    }

    /// Both directions finished: the stack completes the close on its own.
    func close() {
        closed = true
        session.forget(tcp: flow)
    }
}
