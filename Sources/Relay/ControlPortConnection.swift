import Transport
import Wire

/// A new connection on the relay's control port, before it is known what it is: its first byte
/// tells (peeked, not consumed). A TLS record (0x16, handshake) is an agent's control connection
/// (`AgentSession`); "V" starts a `DataPreamble` (`DataConnection`). One port serves both, so a
/// relay behind a firewall needs one port open for agents, not two.
final class ControlPortConnection: IOHandler {
    private unowned let relay: RelayServer
    private let loop: EventLoop
    private let socket: Socket
    private let peer: SocketAddress?
    private var timer: UInt64?
    private var done = false

    private init(relay: RelayServer, loop: EventLoop, socket: Socket, peer: SocketAddress?) {
        self.relay = relay
        self.loop = loop
        self.socket = socket
        self.peer = peer
    }

    static func accept(socket: Socket, peer: SocketAddress?, relay: RelayServer, loop: EventLoop) {
        let connection = ControlPortConnection(relay: relay, loop: loop, socket: socket, peer: peer)
        do { try loop.register(fd: socket.fd, interest: IOInterest.read, handler: connection) } catch { return socket.close() }
        connection.timer = loop.schedule(after: 10) { [weak connection] in connection?.route(nil) }
    }

    func handleIO(events: UInt32) {
        var first: UInt8 = 0
        let result = withUnsafeMutableBytes(of: &first) { try? socket.peek(into: $0) }
        switch result {
        case .bytes?: route(first)
        case .wouldBlock?: return
        default: route(nil)
        }
    }

    private func route(_ first: UInt8?) {
        guard !done else { return }
        done = true
        if let timer { loop.cancelTimer(timer) }
        loop.deregister(fd: socket.fd)
        switch first {
        case 0x16?: AgentSession.accept(socket: socket, peer: peer, relay: relay, loop: loop)
        case DataPreamble.magic[0]?: DataConnection.accept(socket: socket, peer: peer, relay: relay, loop: loop)
        default: socket.close()
        }
    }
}
