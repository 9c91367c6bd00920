import Console
import Transport
import Wire

/// What a browser connection asks of the relay: where a Host leads, and the guessing limiter.
/// `RelayServer` answers (below); tests answer with a fake share and a fake tunnel.
protocol HTTPProxyRouter: AnyObject {
    var limiter: GuessLimiter { get }
    /// The share offering HTTP at `host`, or nil (unknown, ended, expired or HTTP off: one answer).
    func httpShare(host: String?) -> HTTPProxyShare?
    func shareName(fromHost host: String?) -> String?
}

/// A share as the proxy sees it.
struct HTTPProxyShare {
    let name: String
    /// The loop that owns the share's agent connection; the browser connection moves there.
    let loop: EventLoop
    /// The agent's tunnel if it is connected now; call on `loop` only.
    let tunnel: () -> TunnelStreams?
}

extension RelayServer: HTTPProxyRouter {
    func httpShare(host: String?) -> HTTPProxyShare? {
        guard case .share(let entry, let loop) = route(host: host), entry.httpEnabled else { return nil }
        return HTTPProxyShare(name: entry.name, loop: loop) { [registry] in
            registry.agent(of: entry, on: loop).map { $0.tunnel }.flatMap { $0.isOpen ? $0 : nil }
        }
    }
}

/// One browser connection on the public HTTP port, proxied onto one stream of a share's tunnel.
///
/// Requests are parsed (Host → share; X-Forwarded-* added) and bodies streamed through raw;
/// responses are parsed only to log them and to notice upgrades, and pass through unchanged.
/// Backpressure: the browser is read only while the stream has credit, and the stream's data is
/// acknowledged only once the browser has taken it. Confined to its loop; it moves to the share's
/// loop once the first request names the share.
final class HTTPProxyConnection: IOHandler, TunnelStreamHandler {
    /// The slow-head limit (408) and the idle limit between requests.
    struct Timeouts {
        var head = 10.0
        var idle = 75.0
    }

    private unowned let relay: HTTPProxyRouter
    private let timeouts: Timeouts
    private let loop: EventLoop
    private let socket: Socket
    private let clientIP: String
    private var requests: HTTPRequestParser
    /// Observing only: the relay forwards the bytes it received; the parser finds status and ends.
    private var responses = HTTPResponseParser(observing: true)
    private var responseBytesLogged = 0  // parser's consumedBytes at the end of the last logged response

    // The share and the stream, once routed.
    private var share: HTTPProxyShare?
    private var routedHost: String?      // the Host that routed this connection (later requests repeat it)
    private var tunnel: TunnelStreams?
    private var stream: UInt32?

    private var toStream = ByteQueue()   // request bytes waiting for stream credit
    private var toClient = SocketOutbox() // response bytes on their way to the browser
    private let readBuffer: UnsafeMutableRawBufferPointer

    /// Requests forwarded and not yet answered, in order (for the access log and 502 pages).
    private struct Exchange { var method: String; var path: String; var start: Double; var status = 0; var bytes = 0 }
    private var exchanges: [Exchange] = []
    private var responseStarted = false  // some bytes of the current response reached the browser

    private var requestRaw = false       // after an Upgrade request: client bytes pass through unparsed
    private var responseRaw = false
    private var clientEOF = false
    private var closeAfterFlush = false
    private var closed = false
    private var readPaused = false
    private var timer: UInt64?
    private var timingHead = false       // the deadline is the slow-head limit (else the idle limit)
    private var deadline = Double.infinity
    private var timerFiresAt = Double.infinity

    private init(relay: HTTPProxyRouter, timeouts: Timeouts, loop: EventLoop, socket: Socket, clientIP: String,
                 parser: HTTPRequestParser) {
        self.relay = relay
        self.timeouts = timeouts
        self.loop = loop
        self.socket = socket
        self.clientIP = clientIP
        self.requests = parser
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
    }

    deinit { readBuffer.deallocate() }

    static func accept(socket: Socket, peer: SocketAddress?, relay: HTTPProxyRouter, loop: EventLoop,
                       timeouts: Timeouts = Timeouts()) {
        let clientIP = peer?.host ?? "unknown"
        let connection = HTTPProxyConnection(relay: relay, timeouts: timeouts, loop: loop, socket: socket,
                                             clientIP: clientIP, parser: HTTPRequestParser())
        if relay.limiter.isRefused(clientIP) {
            Console.headline("relay", "Refused \(clientIP): too many requests for unknown shares.")
            connection.start(registered: false)
            connection.respondAndClose(status: 429, title: "Too Many Requests",
                                       message: "Too many requests for unknown addresses. Try again later.")
            return
        }
        connection.start(registered: false)
    }

    private func start(registered: Bool) {
        socket.setNoDelay()
        if !registered {
            do { try loop.register(fd: socket.fd, interest: IOInterest.read, handler: self) } catch { socket.close(); closed = true; return }
        }
        armTimer(seconds: timeouts.idle)
    }

    // MARK: Browser → stream

    func handleIO(events: UInt32) {
        guard !closed else { return }
        if events & IOInterest.write != 0 { writeToClient() }
        if !closed && events & (IOInterest.read | IOInterest.error) != 0 { readFromClient() }
    }

    private func readFromClient() {
        while !closed && !clientEOF && !closeAfterFlush {
            guard toStream.isEmpty else { pauseReading(); return }
            var limit = readBuffer.count
            if let stream, let tunnel {
                limit = min(limit, tunnel.sendCapacity(stream: stream))
                if limit == 0 {
                    tunnel.notifyWhenWritable(stream: stream)
                    pauseReading()
                    return
                }
            }
            let result: Socket.IOResult
            do {
                result = try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: readBuffer[0..<limit]))
            } catch {
                return abort()
            }
            switch result {
            case .wouldBlock:
                return
            case .eof:
                clientEOF = true
                clientFinished()
                return
            case .bytes(let n):
                let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<n])
                if requestRaw {
                    sendToStream(bytes)
                } else {
                    // A body goes from this read buffer straight into the tunnel; only heads (and
                    // what follows them in the same read) pass through the parser's buffer.
                    let passed = requests.passBody(bytes)
                    if passed > 0 { sendToStream(UnsafeRawBufferPointer(rebasing: bytes[..<passed])) }
                    requests.feed(UnsafeRawBufferPointer(rebasing: bytes[passed...]))
                    if !processRequests() { return }
                }
                if n < limit { return }  // drained; epoll says when more comes
            }
        }
    }

    /// Runs the parser over what has arrived. Returns false when this object handed the
    /// connection to another loop or closed it.
    @discardableResult
    private func processRequests() -> Bool {
        while !closed {
            let event: HTTPRequestEvent?
            do {
                event = try requests.next()
            } catch {
                respondToBadRequest(error)
                return false
            }
            guard let event else { break }
            switch event {
            case .head(let head):
                if !forward(head) { return false }
            case .body(let bytes):
                bytes.withUnsafeBytes { sendToStream($0) }
            case .end:
                break
            case .upgraded(let rest):
                requestRaw = true
                rest.withUnsafeBytes { sendToStream($0) }
            }
        }
        // The deadline runs from the head's first byte: trickling bytes does not extend it.
        if requests.hasPartialHead && exchanges.isEmpty && !timingHead {
            armTimer(seconds: timeouts.head, slowHead: true)
        }
        return !closed
    }

    /// Routes (first request) and forwards one request head. False when the connection moved or closed.
    private func forward(_ head: HTTPRequestHead) -> Bool {
        if share == nil {
            guard let target = relay.httpShare(host: head.host) else {
                answerUnknown(head)
                return false
            }
            if target.loop !== loop {
                moveTo(target.loop, head: head)
                return false
            }
            guard let agentTunnel = target.tunnel() else {
                respondAndClose(status: 502, title: "Bad Gateway",
                                message: "The shared machine is reconnecting to the relay. Try again in a moment.")
                return false
            }
            let request = OpenRequest(service: .http, client: clientIP)
            guard let opened = agentTunnel.open(metadata: request.encoded(), handler: self) else {
                respondAndClose(status: 503, title: "Service Unavailable", message: "The share is busy. Try again in a moment.")
                return false
            }
            share = target
            tunnel = agentTunnel
            stream = opened
            routedHost = head.host
        } else if head.host != routedHost && relay.shareName(fromHost: head.host) != share?.name {
            // One connection serves one share; a browser never mixes hosts on one connection.
            closeAfterFlush = true
            finishWhenQuiet()
            return false
        }
        let forwarded = head.forwarded(from: clientIP)
        exchanges.append(Exchange(method: head.method, path: head.target, start: MonotonicClock.now()))
        responses.expectResponse(toMethod: head.method)
        cancelTimer()
        forwarded.serialized().withUnsafeBytes { sendToStream($0) }
        return true
    }

    private func sendToStream(_ bytes: UnsafeRawBufferPointer) {
        guard let stream, let tunnel, bytes.count > 0 else { return }
        if toStream.isEmpty {
            let sent = tunnel.send(stream: stream, bytes)
            if sent < bytes.count {
                toStream.append(UnsafeRawBufferPointer(rebasing: bytes[sent...]))
                tunnel.notifyWhenWritable(stream: stream)
            }
        } else {
            toStream.append(bytes)
        }
    }

    private func pauseReading() {
        readPaused = true
        updateInterest()
    }

    private func clientFinished() {
        if let stream, let tunnel {
            // Half-close towards the machine; responses still on their way are delivered.
            if toStream.isEmpty { tunnel.finish(stream: stream) }
            updateInterest()
        } else {
            close()
        }
    }

    // MARK: Stream → browser

    func tunnelStream(_ stream: UInt32, didReceive bytes: UnsafeRawBufferPointer) {
        guard !closed else { return }
        if !responseRaw {
            responses.feed(bytes)
            do {
                while let event = try responses.next() { observe(event) }
            } catch {
                Console.headline("relay", "Share \(share?.name ?? "?"): malformed response from the machine (\(error)); closing the connection.")
                return abort()
            }
        }
        responseStarted = true
        do {
            let written = try toClient.send(bytes, to: socket)
            if written > 0, let tunnel { tunnel.consumed(stream: stream, count: written) }
        } catch {
            return abort()
        }
        updateInterest()
        finishWhenQuiet()
    }

    private func observe(_ event: HTTPResponseEvent) {
        switch event {
        case .head(let head, _):
            guard !exchanges.isEmpty else { return }
            if head.status >= 100 && head.status < 200 && head.status != 101 { return }
            exchanges[0].status = head.status
        case .body:
            break
        case .end:
            logFirstExchange()
        case .upgraded:
            if !exchanges.isEmpty { logFirstExchange() }
            responseRaw = true
        }
    }

    /// Logs the oldest exchange; its size is what the machine sent since the previous one ended,
    /// unless the relay answered itself (`bytes`).
    private func logFirstExchange(bytes: Int? = nil) {
        guard !exchanges.isEmpty else { return }
        var done = exchanges.removeFirst()
        done.bytes = bytes ?? responses.consumedBytes - responseBytesLogged
        responseBytesLogged = responses.consumedBytes
        responseStarted = false
        AccessLog.record(share: share?.name ?? "-", client: clientIP, method: done.method, path: done.path,
                         status: done.status, bytes: done.bytes, seconds: MonotonicClock.now() - done.start, loop: loop)
        if exchanges.isEmpty && !requestRaw { armTimer(seconds: timeouts.idle) }
    }

    func tunnelStreamDidFinish(_ stream: UInt32) {
        if !responseRaw {
            do {
                if let event = try responses.finishAtEOF() { observe(event) }
                while let event = try responses.next() { observe(event) }
            } catch {
                // Cut off mid-response: the browser sees the connection close, as it would directly.
            }
        }
        // The machine closed its side: nothing more can be asked on this connection.
        closeAfterFlush = true
        finishWhenQuiet()
    }

    func tunnelStream(_ stream: UInt32, didReset code: ResetCode, reason: String) {
        self.stream = nil
        tunnel = nil
        guard !closed else { return }
        if !responseStarted && !exchanges.isEmpty && toClient.isEmpty {
            let unreachable = code == .refused || code == .unreachable || code == .timeout
            let message = unreachable
                ? "The shared machine did not accept the connection. Is its web server running?"
                : "The connection to the shared machine was lost."
            exchanges[0].status = 502
            let body = HTTPErrorPage.response(status: 502, title: "Bad Gateway", message: message, close: true)
            logFirstExchange(bytes: body.count)
            exchanges.removeAll()
            toClient.append(body)
            closeAfterFlush = true
            writeToClient()
        } else {
            abort()
        }
    }

    func tunnelStreamIsWritable(_ stream: UInt32) {
        guard !closed, let tunnel else { return }
        while !toStream.isEmpty {
            let sent = toStream.consume { tunnel.send(stream: stream, $0) }
            if sent == 0 { return tunnel.notifyWhenWritable(stream: stream) }
        }
        if clientEOF { tunnel.finish(stream: stream); return }
        if readPaused {
            readPaused = false
            updateInterest()
            readFromClient()
        }
    }

    private func writeToClient() {
        guard !closed else { return }
        do {
            let written = try toClient.flush(to: socket)
            if written > 0, let stream, let tunnel { tunnel.consumed(stream: stream, count: written) }
        } catch {
            return abort()
        }
        updateInterest()
        finishWhenQuiet()
    }

    private func updateInterest() {
        guard !closed else { return }
        var interest: UInt32 = 0
        if !clientEOF && !readPaused && !closeAfterFlush { interest |= IOInterest.read }
        if !toClient.isEmpty { interest |= IOInterest.write }
        loop.modify(fd: socket.fd, interest: interest)
    }

    // MARK: Answers from the relay itself

    private func answerUnknown(_ head: HTTPRequestHead) {
        // Same page for unknown, ended and expired names; a guessing client is slowed, then refused.
        let verdict = relay.limiter.recordMiss(clientIP)
        let status = verdict == .refuse ? 429 : 404
        AccessLog.record(share: "-", client: clientIP, method: head.method, path: head.target, status: status, bytes: 0, seconds: 0, loop: loop)
        switch verdict {
        case .allow:
            respondAndClose(status: 404, title: "Not Found", message: "There is no share at this address.")
        case .delay(let seconds):
            pauseReading()
            cancelTimer()
            loop.schedule(after: seconds) { [weak self] in
                self?.respondAndClose(status: 404, title: "Not Found", message: "There is no share at this address.")
            }
        case .refuse:
            Console.headline("relay", "Refused \(clientIP): too many requests for unknown shares.")
            respondAndClose(status: 429, title: "Too Many Requests",
                            message: "Too many requests for unknown addresses. Try again later.")
        }
    }

    private func respondToBadRequest(_ error: HTTPParseError) {
        let status = error.suggestedStatus
        let title = status == 431 ? "Request Header Fields Too Large" : status == 501 ? "Not Implemented" : "Bad Request"
        if exchanges.isEmpty && stream == nil {
            respondAndClose(status: status, title: title, message: "The relay could not read this request: \(error).")
        } else {
            // Mid-conversation with the machine: a clean answer is no longer possible.
            abort()
        }
    }

    private func respondAndClose(status: Int, title: String, message: String) {
        guard !closed else { return }
        cancelTimer()
        // The relay answers itself: whatever the machine still sends on this connection is moot.
        if let stream, let tunnel { tunnel.reset(stream: stream, code: .cancelled, reason: "relay answered") }
        stream = nil
        tunnel = nil
        toClient.append(HTTPErrorPage.response(status: status, title: title, message: message, close: true))
        closeAfterFlush = true
        readPaused = true
        writeToClient()
    }

    // MARK: Timers

    /// Sets the connection's one deadline: the idle limit, or the slow-head limit. Re-arming on every
    /// request would cost a timer-heap insertion each time, so one timer runs, and when it fires
    /// early for a deadline that moved later, it schedules itself again for the rest.
    private func armTimer(seconds: Double, slowHead: Bool = false) {
        deadline = MonotonicClock.now() + seconds
        timingHead = slowHead
        if timer == nil || timerFiresAt > deadline { scheduleTimer(at: deadline) }
    }

    private func scheduleTimer(at time: Double) {
        if let timer { loop.cancelTimer(timer) }
        timerFiresAt = time
        timer = loop.schedule(after: max(0, time - MonotonicClock.now())) { [weak self] in
            guard let self, !self.closed else { return }
            self.timer = nil
            if self.deadline == .infinity { return }
            if MonotonicClock.now() < self.deadline { return self.scheduleTimer(at: self.deadline) }
            if self.timingHead {
                self.respondAndClose(status: 408, title: "Request Timeout", message: "The request head did not arrive in time.")
            } else if self.exchanges.isEmpty && !self.requestRaw {
                self.close()
            }
        }
    }

    private func cancelTimer() {
        deadline = .infinity
        timingHead = false
    }

    // MARK: Moving and ending

    /// Hands the browser socket to the share's loop, with the parser state and the head in hand.
    private func moveTo(_ target: EventLoop, head: HTTPRequestHead) {
        cancelTimer()
        loop.deregister(fd: socket.fd)
        closed = true
        let fd = socket.release()
        let parser = requests
        let relay = self.relay
        let timeouts = self.timeouts
        let clientIP = self.clientIP
        target.execute {
            let moved = HTTPProxyConnection(relay: relay, timeouts: timeouts, loop: target, socket: Socket(adopting: fd),
                                            clientIP: clientIP, parser: parser)
            moved.start(registered: false)
            if moved.forward(head) { moved.processRequests() }
            if !moved.closed { moved.readFromClient() }
        }
    }

    private func finishWhenQuiet() {
        guard closeAfterFlush, toClient.isEmpty, !closed else { return }
        close()
    }

    private func abort() {
        guard !closed else { return }
        if let stream, let tunnel { tunnel.reset(stream: stream, code: .cancelled, reason: "browser connection closed") }
        stream = nil
        teardown()
        socket.abort()
    }

    private func close() {
        guard !closed else { return }
        // A reset of a stream both sides already finished is ignored by the peer; otherwise it frees it.
        if let stream, let tunnel { tunnel.reset(stream: stream, code: .cancelled, reason: "connection closed") }
        stream = nil
        teardown()
        socket.close()
    }

    private func teardown() {
        closed = true
        cancelTimer()
        loop.deregister(fd: socket.fd)
        // A response cut short still gets its line, with what got through.
        if let first = exchanges.first, first.status != 0, share != nil { logFirstExchange() }
        exchanges.removeAll()
    }
}
