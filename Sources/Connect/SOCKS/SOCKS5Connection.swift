import Console
import Transport
import Wire

/// One SOCKS5 client during its handshake. Parsing is `SOCKS5ServerParser` (pure); this shell reads,
/// answers, and then hands the socket over: to a tunnel stream for CONNECT (`StreamSocketBridge`),
/// or to a `SOCKSUDPAssociation` for UDP ASSOCIATE. A malformed or refused request closes this
/// client only.
final class SOCKS5Connection: IOHandler, TunnelStreamHandler {
    private let socket: Socket
    private let client: SocketAddress?
    private unowned let server: SOCKS5Server
    private var parser = SOCKS5ServerParser()
    private var loop: EventLoop { server.loop }
    private var done = false
    private var timer: UInt64?
    /// CONNECT: the stream opened for it, until the share says it is connected (or not).
    private var pending: (tunnel: any TunnelStreams, stream: UInt32)?
    static let handshakeTimeout = 10.0
    /// Longer than the share agent's own dial timeout (`SocketEndpoint.defaultConnectTimeout`, 10 s),
    /// which answers first with a reset.
    static let connectTimeout = 15.0

    init(socket: Socket, client: SocketAddress?, server: SOCKS5Server) {
        self.socket = socket
        self.client = client
        self.server = server
    }

    func start() {
        do {
            try loop.register(fd: socket.fd, interest: IOInterest.read, handler: self)
        } catch {
            return socket.close()
        }
        // The connection is kept alive by the loop's registration until it is done.
        timer = loop.schedule(after: Self.handshakeTimeout) { [self] in
            guard !done else { return }
            fail("the SOCKS handshake did not finish in time")
        }
    }

    func handleIO(events: UInt32) {
        guard !done else { return }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let result: Socket.IOResult
        do {
            result = try buffer.withUnsafeMutableBytes { bytes throws(SystemError) in try socket.read(into: bytes) }
        } catch {
            return fail(nil)
        }
        switch result {
        case .bytes(let n): parser.feed(buffer[0..<n])
        case .wouldBlock: return
        case .eof: return fail(nil)
        }
        do {
            while let event = try parser.next() {
                switch event {
                case .greeting:
                    send(SOCKS5MethodSelection.encoded(SOCKS5MethodSelection.noAuthentication))
                case .request(let request):
                    return serve(request)
                }
            }
        } catch {
            if let response = error.response { send(response) }
            fail("SOCKS client \(client?.description ?? "?"): \(error)")
        }
    }

    private func serve(_ request: SOCKS5Request) {
        // UDP ASSOCIATE names where the client will send from (often 0.0.0.0:0), not a
        // destination: its datagrams are checked one by one.
        guard request.command == .udpAssociate || server.allows(request.destination) else {
            send(SOCKS5Reply(.notAllowed).encoded())
            return fail(nil)
        }
        guard let tunnel = server.tunnel, tunnel.isOpen else {
            send(SOCKS5Reply(.networkUnreachable).encoded())
            return fail(nil)
        }
        switch request.command {
        case .connect:
            let open = OpenRequest(service: .tcp, port: request.port, confirm: true)
            guard let stream = tunnel.open(metadata: open.encoded(), handler: self) else {
                send(SOCKS5Reply(.generalFailure).encoded())
                return fail(nil)
            }
            // The reply waits until the share agent has dialed the port (`connected`), so a closed
            // port is answered "connection refused" (0x05), as a direct connection would be.
            pending = (tunnel, stream)
            loop.modify(fd: socket.fd, interest: IOInterest.none)
            if let timer { loop.cancelTimer(timer) }
            timer = loop.schedule(after: Self.connectTimeout) { [self] in
                guard let (tunnel, stream) = pending else { return }
                pending = nil
                tunnel.reset(stream: stream, code: .timeout, reason: "no answer from the share")
                send(SOCKS5Reply(.hostUnreachable).encoded())
                fail(nil)
            }
        case .udpAssociate:
            guard let association = SOCKSUDPAssociation(control: socket, client: client, server: server) else {
                send(SOCKS5Reply(.generalFailure).encoded())
                return fail(nil)
            }
            send(SOCKS5Reply(.succeeded, bound: .ipv4(association.boundAddress), port: association.boundPort).encoded())
            handOver()
            association.start()
        case .bind:
            send(SOCKS5Reply(.commandNotSupported).encoded())
            fail(nil)
        }
    }

    // MARK: Waiting for the share to dial (TunnelStreamHandler until then)

    /// The machine accepted: reply success and join the socket to the stream.
    func tunnelStreamDidConnect(_ stream: UInt32) {
        guard let (tunnel, stream) = pending else { return }
        pending = nil
        send(SOCKS5Reply(.succeeded).encoded())
        handOver()
        let bridge = StreamSocketBridge(tunnel: tunnel, stream: stream, socket: socket, connecting: false)
        bridge.targetDescription = "SOCKS client \(client?.description ?? "?")"
        let pipelined = parser.takeRemainingBytes()
        if !pipelined.isEmpty { bridge.sendFirst(pipelined) }
        do { try bridge.start() } catch { tunnel.reset(stream: stream, code: .cancelled, reason: "SOCKS client gone") }
    }

    /// The machine refused, could not be reached, the share's connect scope excludes the port, or the
    /// share went away: say so in the reply.
    func tunnelStream(_ stream: UInt32, didReset code: ResetCode, reason: String) {
        guard pending != nil else { return }
        pending = nil
        let reply: SOCKS5ReplyCode
        switch code {
        case .refused: reply = .connectionRefused
        case .unreachable, .timeout: reply = .hostUnreachable
        case .forbidden: reply = .notAllowed
        default: reply = .generalFailure
        }
        send(SOCKS5Reply(reply).encoded())
        fail(nil)
    }

    // Nothing arrives before `connected` (the agent signals it before reading its socket).
    func tunnelStream(_ stream: UInt32, didReceive bytes: UnsafeRawBufferPointer) {}
    func tunnelStreamDidFinish(_ stream: UInt32) {}
    func tunnelStreamIsWritable(_ stream: UInt32) {}

    private func send(_ bytes: [UInt8]) {
        // Handshake replies are tiny; a full socket buffer here means a broken client.
        _ = bytes.withUnsafeBytes { try? socket.write($0) }
    }

    /// The socket leaves this handler (the bridge or association registers it anew).
    private func handOver() {
        done = true
        if let timer { loop.cancelTimer(timer) }
        loop.deregister(fd: socket.fd)
    }

    private func fail(_ why: String?) {
        if let (tunnel, stream) = pending {
            pending = nil
            tunnel.reset(stream: stream, code: .cancelled, reason: "SOCKS client gone")
        }
        guard !done else { return }
        done = true
        if let timer { loop.cancelTimer(timer) }
        if let why { Console.detail("connect", why) }
        loop.deregister(fd: socket.fd)
        socket.close()
    }
}
