import Wire

/// `--metrics ADDR:PORT`: a plain-HTTP listener that answers `GET /metrics` with Prometheus text
/// (and 404/405 to anything else), one request per connection, on the owner's event loop. What a
/// scrape needs and nothing more: the text is small, so it is written whole or the scrape ends.
public final class MetricsEndpoint {
    /// A scrape that has not sent its request head in this long is closed.
    static let deadline = 5.0
    private let listener: Listener
    public var address: SocketAddress { listener.address }

    public init(address: SocketAddress, loop: EventLoop, render: @escaping () -> String) throws(SystemError) {
        listener = try Listener(address: address, loop: loop) { socket, _ in
            MetricsScrape.start(socket: socket, loop: loop, render: render)
        }
        try listener.start()
    }

    public func stop() { listener.stop() }

    /// The answer to one request head, without I/O.
    static func answer(method: String, target: String, render: () -> String) -> [UInt8] {
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let (status, type, body): (String, String, String)
        switch (path, method) {
        case ("/metrics", "GET"), ("/metrics", "HEAD"): (status, type, body) = ("200 OK", PrometheusText.contentType, render())
        case ("/metrics", _): (status, type, body) = ("405 Method Not Allowed", "text/plain; charset=utf-8", "GET /metrics\n")
        default: (status, type, body) = ("404 Not Found", "text/plain; charset=utf-8", "metrics are at /metrics\n")
        }
        var out = Array("HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n".utf8)
        if method != "HEAD" { out += body.utf8 }
        return out
    }
}

/// One scrape's connection: read the head, write the answer, close.
private final class MetricsScrape: IOHandler {
    private let socket: Socket
    private let loop: EventLoop
    private let render: () -> String
    private var parser = HTTPRequestParser(maxHeadBytes: 8192, maxHeaders: 64)
    private var answer: [UInt8] = []
    private var written = 0
    private var timer: UInt64?
    private var closed = false

    private init(socket: Socket, loop: EventLoop, render: @escaping () -> String) {
        self.socket = socket
        self.loop = loop
        self.render = render
    }

    static func start(socket: Socket, loop: EventLoop, render: @escaping () -> String) {
        let scrape = MetricsScrape(socket: socket, loop: loop, render: render)
        do {
            try loop.register(fd: socket.fd, interest: IOInterest.read, handler: scrape)
        } catch {
            return
        }
        // The loop's registration holds the scrape until close() deregisters it.
        scrape.timer = loop.schedule(after: MetricsEndpoint.deadline) { [weak scrape] in scrape?.close() }
    }

    func handleIO(events: UInt32) {
        if answer.isEmpty { readHead() } else { writeAnswer() }
    }

    private func readHead() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let result: Socket.IOResult
        do {
            result = try buffer.withUnsafeMutableBytes { try socket.read(into: $0) }
        } catch {
            return close()
        }
        switch result {
        case .wouldBlock: return
        case .eof: return close()
        case .bytes(let count): parser.feed(Array(buffer[0..<count]))
        }
        do {
            guard case .head(let head)? = try parser.next() else { return }
            answer = MetricsEndpoint.answer(method: head.method, target: head.target, render: render)
        } catch {
            answer = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        }
        loop.modify(fd: socket.fd, interest: IOInterest.write)
        writeAnswer()
    }

    private func writeAnswer() {
        while written < answer.count {
            let result: Socket.IOResult
            do {
                result = try answer[written...].withUnsafeBytes { try socket.write($0) }
            } catch {
                return close()
            }
            guard case .bytes(let count) = result else { return }
            written += count
        }
        close()
    }

    private func close() {
        guard !closed else { return }
        closed = true
        if let timer { loop.cancelTimer(timer) }
        loop.deregister(fd: socket.fd)
        socket.close()
    }
}
