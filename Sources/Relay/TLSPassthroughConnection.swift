import Console
import Transport
import Wire

/// One connection on the relay's HTTPS port: reads just the TLS ClientHello to learn the share from
/// its SNI name, then splices the raw bytes onto a stream to the machine's own HTTPS server.
/// The relay never decrypts this traffic.
final class TLSPassthroughConnection: IOHandler {
    private unowned let relay: RelayServer
    private let loop: EventLoop
    private let socket: Socket
    private let clientIP: String
    private var hello: [UInt8]
    private var timer: UInt64?
    private var done = false
    static let maxHello = 16 * 1024 + 5 * 4

    private init(relay: RelayServer, loop: EventLoop, socket: Socket, clientIP: String, hello: [UInt8]) {
        self.relay = relay
        self.loop = loop
        self.socket = socket
        self.clientIP = clientIP
        self.hello = hello
    }

    static func accept(socket: Socket, peer: SocketAddress?, relay: RelayServer, loop: EventLoop) {
        let clientIP = peer?.host ?? "unknown"
        guard !relay.limiter.isRefused(clientIP) else {
            Console.throttledHeadline("relay", "Refused \(clientIP): too many requests for unknown shares.")
            return socket.close()
        }
        let connection = TLSPassthroughConnection(relay: relay, loop: loop, socket: socket, clientIP: clientIP, hello: [])
        connection.start()
    }

    private func start() {
        do { try loop.register(fd: socket.fd, interest: IOInterest.read, handler: self) } catch { return socket.close() }
        timer = loop.schedule(after: 10) { [weak self] in self?.drop() }
    }

    func handleIO(events: UInt32) {
        guard !done else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let result = buffer.withUnsafeMutableBytes { try? socket.read(into: $0) }
        switch result {
        case .bytes(let n)?:
            hello.append(contentsOf: buffer[0..<n])
        case .wouldBlock?:
            return
        default:
            return drop()
        }
        switch ClientHelloSNI.parse(hello) {
        case .needMoreData:
            if hello.count > TLSPassthroughConnection.maxHello { drop() }
        case .found(let serverName):
            route(serverName)
        case .absent, .malformed:
            drop()
        }
    }

    private func route(_ serverName: String) {
        guard case .share(let entry, let shareLoop) = relay.route(host: serverName), entry.httpsEnabled else {
            _ = relay.limiter.recordMiss(clientIP)
            return drop()
        }
        // `--allow-ip` holds here too (the TCP peer, as for HTTP); refused, the connection just closes,
        // as no TLS alert can be sent without the machine's certificate.
        if let access = entry.access, !access.allows(clientIP: clientIP) {
            Console.out("\(AccessLog.timestamp()) \(entry.name) \(clientIP) \"TLS \(entry.name)\" refused acl=allow-ip")
            return drop()
        }
        if let timer { loop.cancelTimer(timer) }
        done = true
        loop.deregister(fd: socket.fd)
        let fd = socket.release()
        let hello = self.hello
        let clientIP = self.clientIP
        let relay = self.relay
        shareLoop.execute {
            let socket = Socket(adopting: fd)
            guard let tunnel = relay.registry.openTunnel(of: entry, on: shareLoop) else { return socket.close() }
            let request = OpenRequest(service: .https, client: clientIP)
            guard let stream = tunnel.open(metadata: request.encoded(), handler: nil) else { return socket.close() }
            let bridge = StreamSocketBridge(tunnel: tunnel, stream: stream, socket: socket, connecting: false)
            bridge.targetDescription = "the HTTPS client"
            bridge.sendFirst(hello)
            do { try bridge.start() } catch { tunnel.reset(stream: stream, code: .internalError, reason: "\(error)") }
            Console.out("\(AccessLog.timestamp()) \(entry.name) \(clientIP) \"TLS \(entry.name)\" passthrough")
        }
    }

    private func drop() {
        guard !done else { return }
        done = true
        if let timer { loop.cancelTimer(timer) }
        loop.deregister(fd: socket.fd)
        socket.close()
    }
}
