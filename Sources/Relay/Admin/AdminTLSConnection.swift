import Console
import Transport
import Wire

/// One HTTPS connection to the web interface (any address but loopback), with the relay's
/// certificate: read one request, answer it, close after the answer is out. Confined to its loop.
final class AdminTLSConnection: TLSConnectionDelegate {
    private let app: AdminApp
    private let tls: TLSConnection
    private let clientIP: String
    private var reader = AdminRequestReader()
    private var answered = false
    private var timer: UInt64?

    private init(app: AdminApp, tls: TLSConnection, clientIP: String) {
        self.app = app
        self.tls = tls
        self.clientIP = clientIP
    }

    static func accept(socket: Socket, peer: SocketAddress?, app: AdminApp, context: TLSContext, loop: EventLoop) {
        let clientIP = peer?.host ?? "unknown"
        do {
            let tls = try TLSConnection(socket: socket, context: context, loop: loop, peerAddress: peer)
            let connection = AdminTLSConnection(app: app, tls: tls, clientIP: clientIP)
            tls.delegate = connection
            try tls.start()
            // The loop holds the TLS connection; the timer holds this object until it closes.
            connection.timer = loop.schedule(after: AdminServer.connectionDeadline) { connection.tls.close() }
        } catch {
            Console.error("==> relay: dropped a web interface connection from \(clientIP): \(error)")
        }
    }

    func tlsDidHandshake(_ connection: TLSConnection) {}

    func tls(_ connection: TLSConnection, didReceive bytes: UnsafeRawBufferPointer) {
        guard !answered else { return }
        switch reader.feed(bytes) {
        case .needMore: return
        case .request(let head, let body):
            respond(app.respond(to: AdminRequest(head: head, body: body, client: clientIP)), includeBody: head.method != "HEAD")
        case .refuse(let status):
            respond(.html(status, AdminPages.problem(status, "The request could not be read.")), includeBody: true)
        }
    }

    func tlsDidDrain(_ connection: TLSConnection) {}

    func tlsDidClose(_ connection: TLSConnection, error: Error?) {
        if let timer { connection.loop.cancelTimer(timer); self.timer = nil }
    }

    private func respond(_ response: AdminResponse, includeBody: Bool) {
        answered = true
        tls.write(response.serialized(includeBody: includeBody))
        tls.closeAfterFlushing()
    }
}
