/// A listening socket on a loop; hands each accepted connection to `onAccept`.
import Console
public final class Listener: IOHandler {
    public let socket: Socket
    public let loop: EventLoop
    public let address: SocketAddress
    private let onAccept: (Socket, SocketAddress?) -> Void
    private var paused = false

    public init(address: SocketAddress, loop: EventLoop, onAccept: @escaping (Socket, SocketAddress?) -> Void) throws(SystemError) {
        self.socket = try Socket.listen(on: address)
        self.loop = loop
        self.onAccept = onAccept
        self.address = socket.localAddress() ?? address
    }

    /// Starts accepting (on the loop's thread).
    public func start() throws(SystemError) {
        try loop.register(fd: socket.fd, interest: IOInterest.read, handler: self)
    }

    public func stop() {
        loop.deregister(fd: socket.fd)
        socket.close()
    }

    public func handleIO(events: UInt32) {
        // Bounded batch, so one busy listener cannot starve the loop.
        for _ in 0..<64 {
            let accepted: (Socket, SocketAddress?)?
            do {
                accepted = try socket.accept()
            } catch {
                return pause(after: error)
            }
            guard let accepted else { return }
            onAccept(accepted.0, accepted.1)
        }
    }

    /// Out of file descriptors (or another accept failure): the pending connection stays in the
    /// backlog and epoll would report it again at once, so stop listening briefly instead of spinning.
    private func pause(after error: SystemError) {
        if !paused { Console.throttledError("==> \(address): cannot accept connections for now (\(error)); retrying.") }
        paused = true
        loop.modify(fd: socket.fd, interest: IOInterest.none)
        loop.schedule(after: 0.1) { [weak self] in
            guard let self, self.socket.isOpen else { return }
            self.paused = false
            self.loop.modify(fd: self.socket.fd, interest: IOInterest.read)
        }
    }
}
