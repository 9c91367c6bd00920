/// A listening socket on a loop; hands each accepted connection to `onAccept`.
public final class Listener: IOHandler {
    public let socket: Socket
    public let loop: EventLoop
    public let address: SocketAddress
    private let onAccept: (Socket, SocketAddress?) -> Void

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
            guard let accepted = try? socket.accept() else { return }
            onAccept(accepted.0, accepted.1)
        }
    }
}
