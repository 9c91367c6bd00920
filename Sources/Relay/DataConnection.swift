import Console
import Transport
import Wire

/// One data connection on the relay's control port: reads exactly its `DataPreamble`, then hands
/// its socket to `DataRendezvous`. When both ends of a ticket are here, their sockets are joined by
/// a `SocketSplice`: bytes move socket → pipe → socket inside the kernel (splice(2)), with
/// backpressure and half-close, never copied into the relay nor looked at — they are SPAKE2
/// messages and then TLS between the two ends.
final class DataConnection: IOHandler {
    private unowned let relay: RelayServer
    private let loop: EventLoop
    private let socket: Socket
    private let clientIP: String
    private var preamble: [UInt8] = []
    private var timer: UInt64?
    private var done = false
    /// Seconds to send the preamble after connecting.
    static let preambleTimeout = 10.0

    private init(relay: RelayServer, loop: EventLoop, socket: Socket, clientIP: String) {
        self.relay = relay
        self.loop = loop
        self.socket = socket
        self.clientIP = clientIP
    }

    static func accept(socket: Socket, peer: SocketAddress?, relay: RelayServer, loop: EventLoop) {
        let connection = DataConnection(relay: relay, loop: loop, socket: socket, clientIP: peer?.host ?? "unknown")
        do { try loop.register(fd: socket.fd, interest: IOInterest.read, handler: connection) } catch { return socket.close() }
        connection.timer = loop.schedule(after: preambleTimeout) { [weak connection] in connection?.drop() }
    }

    func handleIO(events: UInt32) {
        guard !done else { return }
        // Exactly the preamble's bytes: what follows belongs to the other end.
        var chunk = [UInt8](repeating: 0, count: DataPreamble.size - preamble.count)
        let result = chunk.withUnsafeMutableBytes { try? socket.read(into: $0) }
        switch result {
        case .bytes(let n)?: preamble += chunk[0..<n]
        case .wouldBlock?: return
        default: return drop()
        }
        guard preamble.count == DataPreamble.size else { return }
        guard let parsed = try? DataPreamble.parse(preamble) else { return drop() }
        finishReading()
        switch relay.rendezvous.arrive(ticket: parsed.ticket, side: parsed.side, socket: socket) {
        case .wait:
            exemptAgent(parsed.side)
        case .join(let partner, let shareName):
            exemptAgent(parsed.side)
            join(partner, shareName: shareName)
        case .refuse:
            Console.throttledDetail("relay", "Refused a data connection from \(clientIP): unknown or expired ticket.")
            socket.close()
        }
    }

    /// An agent's data connection with a valid ticket leaves its address's connection cap (the
    /// agent has one per peer, all from one address); a peer's stays counted. The side is the
    /// connection's own word: a peer that claims the agent's side with its ticket joins its two
    /// connections to each other, and gains one uncounted connection per counted one it holds, so
    /// an address still holds at most twice the cap.
    private func exemptAgent(_ side: DataPreamble.Side) {
        if side == .agent { ConnectionQuota.stopCounting(socket) }
    }

    private func join(_ partner: Socket, shareName: String) {
        partner.setNoDelay()
        socket.setNoDelay()
        do {
            try SocketSplice(partner, socket, loop: loop).start()
        } catch {
            Console.error("==> relay: cannot join the data connections of \(shareName): \(error)")
            partner.close()
            socket.close()
        }
    }

    private func finishReading() {
        done = true
        if let timer { loop.cancelTimer(timer) }
        loop.deregister(fd: socket.fd)
    }

    private func drop() {
        guard !done else { return }
        finishReading()
        socket.close()
    }
}
