import PacketStack
import Transport

/// One TCP flow of a connect session: the peer's side lives in the session's `PacketStack`, the
/// machine's side is this socket. Backpressure both ways: the socket is read only while the
/// stack's send buffer has room, and the stack's receive window reopens only as the socket
/// takes the peer's bytes.
final class TCPFlowSocket: IOHandler {
    let flow: FlowID
    private let socket: Socket
    private unowned let session: PacketSession
    private var stack: PacketStack { session.stack }
    private var connecting = true
    private var connectTimer: UInt64?
    private var readPaused = false     // the stack's send buffer is full
    private var socketEOF = false      // the machine closed its side
    private var writePending = false   // the socket refused some of the peer's bytes
    private var peerDone = false       // the peer's FIN came and all its bytes were read
    private var wroteShutdown = false
    private var closed = false
    static let connectTimeout = 10.0

    init(flow: FlowID, socket: Socket, session: PacketSession) {
        self.flow = flow
        self.socket = socket
        self.session = session
    }

    func start() throws(SystemError) {
        try session.loop.register(fd: socket.fd, interest: IOInterest.write, handler: self)
        connectTimer = session.loop.schedule(after: Self.connectTimeout) { [weak self] in
            guard let self, self.connecting else { return }
            self.refuse()
        }
    }

    func handleIO(events: UInt32) {
        guard !closed else { return }
        if connecting {
            guard socket.connectError() == 0 else { return refuse() }
            connecting = false
            if let connectTimer { session.loop.cancelTimer(connectTimer) }
            socket.setNoDelay()
            stack.tcpConnected(flow, now: MonotonicClock.now())
            updateInterest()
            session.scheduleService()
            return
        }
        if events & IOInterest.write != 0 && writePending { writeToSocket() }
        if !closed && events & (IOInterest.read | IOInterest.error) != 0 && !readPaused && !socketEOF { readFromSocket() }
    }

    // MARK: Machine → peer

    func resumeReading() {
        guard readPaused, !closed else { return }
        readPaused = false
        readFromSocket()
    }

    private func readFromSocket() {
        let buffer = session.scratch
        while !closed {
            let room = stack.sendCapacity(flow)
            if room == 0 { readPaused = true; break }
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(room, buffer.count)])
            do {
                switch try socket.read(into: slice) {
                case .bytes(let n):
                    _ = stack.writeTCP(flow, UnsafeRawBufferPointer(rebasing: slice[0..<n]), now: MonotonicClock.now())
                    if n < slice.count { break }
                    continue
                case .wouldBlock:
                    break
                case .eof:
                    socketEOF = true
                    stack.finishTCP(flow, now: MonotonicClock.now())
                }
            } catch {
                return fail()
            }
            break
        }
        updateInterest()
        session.scheduleService()
    }

    // MARK: Peer → machine

    func writeToSocket() {
        guard !closed, !connecting else { return }
        var blocked = false
        var failed = false
        stack.readTCP(flow) { bytes in
            guard !blocked, !failed else { return 0 }
            do {
                switch try socket.write(bytes) {
                case .bytes(let n):
                    if n < bytes.count { blocked = true }
                    return n
                case .wouldBlock, .eof:
                    blocked = true
                    return 0
                }
            } catch {
                failed = true
                return 0
            }
        }
        if failed { return fail() }
        writePending = blocked
        if peerDone && !blocked && stack.receivedCount(flow) == 0 && !wroteShutdown {
            wroteShutdown = true
            socket.shutdownWrite()
        }
        updateInterest()
        session.scheduleService()
    }

    func peerFinished() {
        peerDone = true
        writeToSocket()
    }

    // MARK: Ending

    private func updateInterest() {
        guard !closed else { return }
        var interest: UInt32 = 0
        if !readPaused && !socketEOF { interest |= IOInterest.read }
        if writePending { interest |= IOInterest.write }
        session.loop.modify(fd: socket.fd, interest: interest)
    }

    /// The machine refused (or never answered): the peer gets an RST, as from a closed port.
    private func refuse() {
        stack.tcpRefused(flow)
        session.forget(tcp: flow)
        close()
        session.scheduleService()
    }

    /// The socket broke (reset by the machine): the peer gets an RST too.
    private func fail() {
        stack.abortTCP(flow)
        session.forget(tcp: flow)
        close()
        session.scheduleService()
    }

    func close() {
        guard !closed else { return }
        closed = true
        if let connectTimer { session.loop.cancelTimer(connectTimer) }
        session.loop.deregister(fd: socket.fd)
        socket.close()
    }
}
