import Transport
import Wire

/// One plain-HTTP connection to the web interface (loopback only): read one request, answer it,
/// half-close, and close when the client does (or at the deadline). Confined to its loop.
final class AdminPlainConnection: ByteEndpointEvents {
    private let app: AdminApp
    private let loop: EventLoop
    private let client: SocketEndpoint
    private let clientIP: String
    private var reader = AdminRequestReader()
    private var answer = ByteQueue()
    private var answered = false
    private var clientDone = false
    private var closed = false
    private var timer: UInt64?

    private init(app: AdminApp, loop: EventLoop, socket: Socket, clientIP: String) {
        self.app = app
        self.loop = loop
        self.clientIP = clientIP
        client = SocketEndpoint(socket: socket, loop: loop, connecting: false, description: "the web client \(clientIP)")
        client.events = self
    }

    static func accept(socket: Socket, peer: SocketAddress?, app: AdminApp, loop: EventLoop) {
        let connection = AdminPlainConnection(app: app, loop: loop, socket: socket, clientIP: peer?.host ?? "unknown")
        do {
            try connection.client.start()
        } catch {
            connection.client.events = nil
            connection.client.reset(code: .internalError, reason: "\(error)")
            return
        }
        // A request must arrive, and its answer be taken, within this time (slow clients end).
        connection.timer = loop.schedule(after: AdminServer.connectionDeadline) { [weak connection] in connection?.close() }
    }

    // MARK: ByteEndpointEvents

    func room(for reader: ByteEndpoint) -> Int { closed ? 0 : 64 * 1024 }

    func waitForRoom(for reader: ByteEndpoint) {}

    func endpoint(_ reader: ByteEndpoint, didRead bytes: UnsafeRawBufferPointer) -> Int {
        // After the answer, whatever else the client sends is read and dropped until it closes.
        guard !closed, !answered else { return bytes.count }
        switch self.reader.feed(bytes) {
        case .needMore: break
        case .request(let head, let body):
            respond(app.respond(to: AdminRequest(head: head, body: body, client: clientIP)), includeBody: head.method != "HEAD")
        case .refuse(let status):
            respond(.html(status, AdminPages.problem(status, "The request could not be read.")), includeBody: true)
        }
        return bytes.count
    }

    func endpointDidFinishReading(_ reader: ByteEndpoint) {
        clientDone = true
        // Before a whole request the client gave up; after the answer went out, it is done.
        if !answered || answer.isEmpty { close() }
    }

    func endpointIsWritable(_ writer: ByteEndpoint) { flush() }

    func endpoint(_ endpoint: ByteEndpoint, didReset code: ResetCode, reason: String) { finish() }

    func endpointDidConnect(_ endpoint: ByteEndpoint) {}

    // MARK: Answer

    private func respond(_ response: AdminResponse, includeBody: Bool) {
        answered = true
        answer.append(response.serialized(includeBody: includeBody))
        flush()
    }

    private func flush() {
        guard !closed else { return }
        while !answer.isEmpty {
            let written = answer.consume { client.write($0) }
            if closed { return }
            if written == 0 { return client.notifyWhenWritable() }
        }
        client.finishWriting()
        if clientDone { close() }
    }

    private func close() {
        guard !closed else { return }
        client.close()
        finish()
    }

    private func finish() {
        closed = true
        client.events = nil
        if let timer { loop.cancelTimer(timer); self.timer = nil }
    }
}
