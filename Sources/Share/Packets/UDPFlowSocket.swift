import Glibc
import PacketStack
import Transport

/// One UDP flow of a connect session: a socket connected to the same port of the machine.
/// A closed port there (ICMP → ECONNREFUSED) becomes ICMP port unreachable for the peer.
final class UDPFlowSocket: IOHandler {
    let flow: FlowID
    private let socket: DatagramSocket
    private unowned let session: PacketSession
    private var closed = false

    init(flow: FlowID, socket: DatagramSocket, session: PacketSession) {
        self.flow = flow
        self.socket = socket
        self.session = session
    }

    func start() throws(SystemError) {
        try session.loop.register(fd: socket.fd, interest: IOInterest.read, handler: self)
    }

    /// A datagram from the peer. A full socket buffer drops it, as a network would.
    func send(_ payload: [UInt8]) {
        guard !closed else { return }
        let failure = payload.withUnsafeBytes { bytes -> SystemError? in
            do throws(SystemError) { _ = try socket.send(bytes); return nil } catch { return error }
        }
        if let failure { unreachable(failure) }
    }

    func handleIO(events: UInt32) {
        let buffer = session.scratch
        var count = 0
        while !closed && count < 64 {
            do {
                switch try socket.receive(into: buffer) {
                case .datagram(let n):
                    session.stack.sendUDP(flow, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), now: MonotonicClock.now())
                    count += 1
                    continue
                case .wouldBlock:
                    break
                }
            } catch {
                unreachable(error)
            }
            break
        }
        session.scheduleService()
    }

    private func unreachable(_ error: SystemError) {
        // Only a refused port is worth an ICMP answer; other errors just lose the datagram.
        if error.errno == ECONNREFUSED { session.stack.udpUnreachable(flow) }
        session.scheduleService()
    }

    func close() {
        guard !closed else { return }
        closed = true
        session.loop.deregister(fd: socket.fd)
        socket.close()
    }
}
