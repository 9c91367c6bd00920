import CShims
import Glibc

/// Joins two connected sockets inside the kernel: each direction moves bytes socket → pipe →
/// socket with splice(2), so they are never copied into this process (the relay's data
/// connections: it forwards ciphertext it has no reason to look at). Backpressure comes free:
/// a direction stops reading when its pipe is full and resumes as the other socket drains it.
/// A direction that reaches EOF half-closes the other socket once its pipe is empty; when both
/// have, or on any error, both sockets and the pipes are closed. Confined to `loop`.
public final class SocketSplice {
    /// Bytes each direction's pipe is asked to hold (F_SETPIPE_SZ; the kernel may give less, and
    /// `Direction.capacity` is what it gave).
    public static let pipeSize: Int32 = 256 * 1024
    /// At most this much per direction per wake-up, so one busy pair does not starve the loop.
    static let budgetPerWake = 1 << 20

    public let loop: EventLoop
    private let a: Socket
    private let b: Socket
    private var aToB: Direction
    private var bToA: Direction
    private var ends: [End] = []
    private var closed = false
    /// Runs once, when the pair is closed (both finished, an error, or `close()`).
    public var onClose: (() -> Void)?

    /// One way through the pair: what `from` sent, in the pipe, not yet taken by `to`.
    private struct Direction {
        let from: Socket
        let to: Socket
        let pipeRead: Int32
        let pipeWrite: Int32
        /// What the pipe holds when full: reading stops there (else a readable socket and a full pipe
        /// would wake the loop for nothing).
        let capacity: Int
        var buffered = 0
        var sawEOF = false
        var shutDown = false
        /// The last splice into `to` would have blocked: wait for it to be writable.
        var blocked = false

        var wantsRead: Bool { !sawEOF && buffered < capacity }

        /// Its `to` socket hung up: nothing more can reach it.
        mutating func abandon() {
            buffered = 0
            sawEOF = true
            shutDown = true
        }
        var wantsWrite: Bool { buffered > 0 && blocked }
        var finished: Bool { shutDown }
    }

    public init(_ a: Socket, _ b: Socket, loop: EventLoop) throws(SystemError) {
        self.a = a
        self.b = b
        self.loop = loop
        aToB = try Self.direction(from: a, to: b)
        do {
            bToA = try Self.direction(from: b, to: a)
        } catch {
            Glibc.close(aToB.pipeRead); Glibc.close(aToB.pipeWrite)
            throw error
        }
    }

    private static func direction(from: Socket, to: Socket) throws(SystemError) -> Direction {
        var fds: [Int32] = [-1, -1]
        let capacity = vshare_pipe_nonblocking(&fds, pipeSize)
        guard capacity > 0 else { throw SystemError("pipe2") }
        return Direction(from: from, to: to, pipeRead: fds[0], pipeWrite: fds[1], capacity: Int(capacity))
    }

    /// Registers both sockets and starts moving bytes.
    public func start() throws(SystemError) {
        let endA = End(splice: self, isA: true), endB = End(splice: self, isA: false)
        ends = [endA, endB]
        try loop.register(fd: a.fd, interest: IOInterest.read, handler: endA)
        try loop.register(fd: b.fd, interest: IOInterest.read, handler: endB)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        loop.deregister(fd: a.fd)
        loop.deregister(fd: b.fd)
        a.close()
        b.close()
        for fd in [aToB.pipeRead, aToB.pipeWrite, bToA.pipeRead, bToA.pipeWrite] { Glibc.close(fd) }
        ends.removeAll()   // they hold us; we are done
        onClose?()
        onClose = nil
    }

    /// One socket's events: readable feeds the direction leaving it, writable drains the one entering it.
    /// Holds the splice strongly: the loop's registrations are what keep a pair alive, until `close`.
    private final class End: IOHandler {
        let splice: SocketSplice
        let isA: Bool
        init(splice: SocketSplice, isA: Bool) { self.splice = splice; self.isA = isA }
        func handleIO(events: UInt32) { splice.handle(events: events, onA: isA) }
    }

    private func handle(events: UInt32, onA: Bool) {
        guard !closed else { return }
        if events & IOInterest.write != 0 {
            if onA { bToA.blocked = false } else { aToB.blocked = false }
        }
        do {
            try move(&aToB)
            try move(&bToA)
        } catch {
            return close()
        }
        // Both directions of this socket are shut (or it failed): nothing can reach it any more,
        // and what it sent is read to EOF above. Stop watching it (a hangup is reported whatever
        // the interest); the other direction may still drain into the other socket.
        if events & IOInterest.error != 0 { hungUp(onA: onA) }
        if aToB.finished && bToA.finished { return close() }
        updateInterest()
    }

    /// One socket hung up. (No `inout` direction is held across `closeAfterError`, which changes
    /// both: that overlapping access aborted the relay when a socket hung up while the direction
    /// leaving it was full.)
    private func hungUp(onA: Bool) {
        if onA { bToA.abandon() } else { aToB.abandon() }
        let ownBytesEnded = onA ? aToB.sawEOF : bToA.sawEOF
        if ownBytesEnded { loop.deregister(fd: onA ? a.fd : b.fd) } else { closeAfterError() }
    }

    /// A socket failed while its own bytes were still coming: the session is broken both ways.
    private func closeAfterError() {
        aToB.shutDown = true
        bToA.shutDown = true
    }

    /// Fills the pipe from `from` and drains it into `to`, as far as both allow within the budget.
    private func move(_ d: inout Direction) throws(SystemError) {
        var budget = Self.budgetPerWake
        // A read that returned less than it asked for emptied the socket: asking again this turn
        // would only cost a system call that says EAGAIN (epoll says when there is more).
        var socketEmpty = false
        while budget > 0 {
            var progressed = false
            if d.wantsRead && !socketEmpty {
                let room = d.capacity - d.buffered
                let n = vshare_splice(d.from.fd, d.pipeWrite, room)
                if n > 0 {
                    d.buffered += n
                    budget -= n
                    progressed = true
                    socketEmpty = n < room
                } else if n == 0 {
                    d.sawEOF = true
                } else if errno != EAGAIN && errno != EINTR {
                    throw SystemError("splice from a socket")
                }
            }
            if d.buffered > 0 && !d.blocked {
                let n = vshare_splice(d.pipeRead, d.to.fd, d.buffered)
                if n > 0 {
                    d.buffered -= n
                    progressed = true
                } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                    d.blocked = true
                } else {
                    throw SystemError("splice into a socket")
                }
            }
            if !progressed { break }
        }
        if d.sawEOF && d.buffered == 0 && !d.shutDown {
            d.shutDown = true
            d.to.shutdownWrite()
        }
    }

    private func updateInterest() {
        let forA = (aToB.wantsRead ? IOInterest.read : 0) | (bToA.wantsWrite ? IOInterest.write : 0)
        let forB = (bToA.wantsRead ? IOInterest.read : 0) | (aToB.wantsWrite ? IOInterest.write : 0)
        loop.modify(fd: a.fd, interest: forA)
        loop.modify(fd: b.fd, interest: forB)
    }
}
