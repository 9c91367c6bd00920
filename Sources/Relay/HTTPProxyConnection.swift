// Why this file is over 450 lines: one connection's HTTP state machine — routing, exchanges,
// timers, the share's access rules and the relay's own answers — reads and writes the same private
// state (what is queued for the stream, what the browser is owed, the one deadline); extensions in
// other files could not reach it without opening it to the whole module. The parts that stand
// alone live beside it: the parsers (Wire/HTTP, which also hold an upgrade's bytes until the
// machine answers), ShareAccess (the rules' decisions), HTTPProxyTimeouts and StageDeadline (the
// stages, their limits and the one timer), AccessLog, HTTPErrorPage.
import Console
import Transport
import Wire

/// One browser connection on the public HTTP port, proxied onto one stream of a share's tunnel.
///
/// Its job is HTTP: route by Host, re-serialize request heads with X-Forwarded-*, watch responses
/// (access log, upgrades, where each ends), answer with error pages, run the stage timers
/// (`HTTPProxyTimeouts`). An upgrade (Upgrade, CONNECT) turns the connection into raw bytes only
/// once the machine agreed (101, or 2xx to CONNECT); until then the parser holds what the browser
/// sent after it, and on any other answer parses it as the next request.
/// Moving bytes is the endpoints' job: the browser is a `SocketEndpoint`, the stream a
/// `TunnelStreamEndpoint`, and this object sits between them as their `ByteEndpointEvents` — a pump
/// that parses — on the pump's rules: the browser is read only within stream credit, response
/// bytes go from the TLS read buffer straight to the browser, and credit returns only for what the
/// browser took. Confined to its loop; it moves to the share's loop once the first request names it.
final class HTTPProxyConnection: ByteEndpointEvents {
    private unowned let relay: HTTPProxyRouter
    private let timeouts: HTTPProxyTimeouts
    private let loop: EventLoop
    private let browser: SocketEndpoint
    private let clientIP: String
    private var requests: HTTPRequestParser
    /// Observing only: the relay forwards the bytes it received; the parser finds status and ends.
    private var responses = HTTPResponseParser(observing: true)
    private var responseBytesLogged = 0  // parser's consumedBytes at the end of the last logged response

    // The share and the stream, once routed.
    private var share: HTTPProxyShare?
    private var routedHost: String?      // the Host that routed this connection (later requests repeat it)
    private var stream: TunnelStreamEndpoint?
    /// Access rules already passed: the peer's address (it cannot change on a connection), and the
    /// `Authorization` value last admitted (later requests repeating it skip even the share's cache).
    private var peerAdmitted = false
    private var admittedAuthorization: String?

    private var toStream = ByteQueue()   // request heads (and what followed them) waiting for stream credit
    private var ownAnswer = ByteQueue()  // the relay's own page on its way to the browser
    private var headBuffer: [UInt8] = [] // each forwarded head is written here (reused)

    /// Requests forwarded and not yet answered, in order (for the access log and 502 pages).
    private struct Exchange {
        var method: String; var path: String; var userAgent: String; var start: Double; var status = 0; var bytes = 0
    }
    private var exchanges: [Exchange] = []
    private var responseStarted = false  // some bytes of the current response reached the browser

    private var requestRaw = false       // after an accepted upgrade: client bytes pass through unparsed
    private var responseRaw = false
    private var machineCutShort = false  // the machine's side ended in the middle of a response
    private var clientEOF = false
    private var closeAfterFlush = false  // no more requests: close once what is on its way is out
    private var readingHeld = false      // a guessing client waits for its (delayed) 404
    private var closed = false
    private let deadline: StageDeadline

    private init(relay: HTTPProxyRouter, timeouts: HTTPProxyTimeouts, loop: EventLoop, socket: Socket, clientIP: String,
                 parser: HTTPRequestParser) {
        self.relay = relay
        self.timeouts = timeouts
        self.loop = loop
        self.clientIP = clientIP
        self.requests = parser
        deadline = StageDeadline(loop: loop, timeouts: timeouts)
        browser = SocketEndpoint(socket: socket, loop: loop, connecting: false, description: "the browser \(clientIP)")
        browser.events = self
        deadline.onExpiry = { [weak self] stage in
            guard let self, !self.closed else { return }
            self.deadlinePassed(stage)
        }
    }

    static func accept(socket: Socket, peer: SocketAddress?, relay: HTTPProxyRouter, loop: EventLoop,
                       timeouts: HTTPProxyTimeouts? = nil) {
        let clientIP = peer?.host ?? "unknown"
        let connection = HTTPProxyConnection(relay: relay, timeouts: timeouts ?? relay.httpTimeouts, loop: loop, socket: socket,
                                             clientIP: clientIP, parser: HTTPRequestParser())
        guard connection.start() else { return }
        if relay.limiter.isRefused(clientIP) {
            Console.throttledHeadline("relay", "Refused \(clientIP): too many requests for unknown shares.")
            connection.respondAndClose(status: 429, title: "Too Many Requests",
                                       message: "Too many requests for unknown addresses. Try again later.")
        }
    }

    /// Registers the browser socket (the loop's registration keeps this object alive).
    private func start() -> Bool {
        do {
            try browser.start()
        } catch {
            browser.events = nil
            browser.reset(code: .internalError, reason: "\(error)")
            closed = true
            return false
        }
        deadline.set(.idle, restart: true)
        return true
    }

    // MARK: ByteEndpointEvents

    /// The browser is read only while its bytes can go on: before routing (at most one head's worth;
    /// the parser refuses a longer head), or within the stream's credit once nothing waits for it.
    /// While an upgrade's answer is awaited, at most a head's worth is held in the parser.
    func room(for reader: ByteEndpoint) -> Int {
        guard reader === browser else { return browser.writeCapacity }
        if closed || closeAfterFlush || readingHeld { return 0 }
        if requests.isAwaitingUpgrade { return max(0, requests.maxHeadBytes - requests.bufferedByteCount) }
        guard let stream else { return requests.maxHeadBytes }
        return toStream.isEmpty ? stream.writeCapacity : 0
    }

    func waitForRoom(for reader: ByteEndpoint) {
        guard reader === browser else { return browser.notifyWhenWritable() }
        // Held for an upgrade's answer: the response resumes reading, not the stream's credit.
        if !closeAfterFlush && !readingHeld && !requests.isAwaitingUpgrade { stream?.notifyWhenWritable() }
    }

    func endpoint(_ reader: ByteEndpoint, didRead bytes: UnsafeRawBufferPointer) -> Int {
        guard !closed else { return 0 }
        guard reader === browser else { return deliverResponse(bytes) }
        if requestRaw {
            sendToStream(bytes)
            deadline.set(.upgraded, restart: true)
        } else {
            // A body goes from the browser's read buffer straight into the tunnel; only heads (and
            // what follows them in the same read) pass through the parser's buffer.
            let passed = requests.passBody(bytes)
            if passed > 0 { sendToStream(UnsafeRawBufferPointer(rebasing: bytes[..<passed])) }
            requests.feed(UnsafeRawBufferPointer(rebasing: bytes[passed...]))
            processRequests()
        }
        return bytes.count
    }

    func endpointDidFinishReading(_ reader: ByteEndpoint) {
        guard !closed else { return }
        if reader === browser { return clientFinished() }
        machineFinished()
    }

    func endpointIsWritable(_ writer: ByteEndpoint) {
        guard !closed else { return }
        if writer === browser {
            writeOwnAnswer()
            if !closed { stream?.resumeReading() }   // response bytes the browser could not take yet
            finishWhenQuiet()
        } else {
            streamIsWritable()
        }
    }

    func endpoint(_ endpoint: ByteEndpoint, didReset code: ResetCode, reason: String) {
        guard !closed else { return }
        if endpoint === browser { return abort(by: "client") }
        streamWasReset(code)
    }

    func endpointDidConnect(_ endpoint: ByteEndpoint) {}

    // MARK: Browser → stream

    /// Runs the parser over what has arrived; stops when this object handed the connection to
    /// another loop or closed it.
    private func processRequests() {
        while !closed {
            let event: HTTPRequestEvent?
            do {
                event = try requests.next()
            } catch {
                return respondToBadRequest(error)
            }
            guard let event else { break }
            switch event {
            case .head(let head):
                if !forward(head) { return }
            case .body(let bytes):
                bytes.withUnsafeBytes { sendToStream($0) }
            case .end:
                break
            case .upgraded(let rest):
                requestRaw = true
                rest.withUnsafeBytes { sendToStream($0) }
            }
        }
        if !closed { updateDeadline(clientSent: true) }
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
            if !admits(head, to: target) { return false }
            share = target
            guard let agentTunnel = target.tunnel() else {
                respondAndClose(status: 502, title: "Bad Gateway",
                                message: "The shared machine is reconnecting to the relay. Try again in a moment.", for: head)
                return false
            }
            let request = OpenRequest(service: .http, client: clientIP)
            guard let opened = agentTunnel.open(metadata: request.encoded(), handler: nil) else {
                respondAndClose(status: 503, title: "Service Unavailable", message: "The share is busy. Try again in a moment.",
                                for: head)
                return false
            }
            let endpoint = TunnelStreamEndpoint(tunnel: agentTunnel, stream: opened)
            endpoint.events = self
            try? endpoint.start()   // attaching to the tunnel cannot fail
            stream = endpoint
            routedHost = head.host
        } else if head.host != routedHost && relay.shareName(fromHost: head.host) != share?.name {
            // One connection serves one share; a browser never mixes hosts on one connection.
            closeAfterFlush = true
            finishWhenQuiet()
            return false
        } else if let share, !admits(head, to: share) {
            return false
        }
        // The user agent goes only into the database's rows: no header scan when there is none.
        let userAgent = AccessLog.store == nil ? "" : head.headers["user-agent"] ?? ""
        exchanges.append(Exchange(method: head.method, path: head.target, userAgent: userAgent, start: MonotonicClock.now()))
        AccessLog.metrics?.requestStarted()
        responses.expectResponse(toMethod: head.method)
        headBuffer.removeAll(keepingCapacity: true)
        head.serializeForwarded(clientIP: clientIP, removingAuthorization: share?.access?.basicAuth != nil, into: &headBuffer)
        headBuffer.withUnsafeBytes { sendToStream($0) }
        return true
    }

    private func sendToStream(_ bytes: UnsafeRawBufferPointer) {
        guard let stream, bytes.count > 0 else { return }
        AccessLog.metrics?.received(bytes: bytes.count)
        if toStream.isEmpty {
            let sent = stream.write(bytes)
            if sent < bytes.count {
                toStream.append(UnsafeRawBufferPointer(rebasing: bytes[sent...]))
                stream.notifyWhenWritable()
            }
        } else {
            toStream.append(bytes)
        }
    }

    private func streamIsWritable() {
        guard let stream else { return }
        while !toStream.isEmpty {
            let sent = toStream.consume { stream.write($0) }
            if sent == 0 { return stream.notifyWhenWritable() }
        }
        if clientEOF { return stream.finishWriting() }
        browser.resumeReading()
    }

    private func clientFinished() {
        clientEOF = true
        guard let stream else { return close() }
        // Half-close towards the machine once the request bytes are out (held ones included: they
        // wait for an upgrade's answer); responses still come.
        if toStream.isEmpty && !requests.isAwaitingUpgrade { stream.finishWriting() }
    }

    // MARK: Stream → browser

    /// Response bytes, lent by the stream endpoint: written to the browser straight from the
    /// tunnel's buffer. What the browser did not take stays with the endpoint (its credit is not
    /// returned), so only bytes that went out are observed and counted.
    private func deliverResponse(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard ownAnswer.isEmpty else { return 0 }
        let taken = browser.write(bytes)
        guard !closed else { return 0 }
        if taken < bytes.count { browser.notifyWhenWritable() }
        guard taken > 0 else { return 0 }
        responseStarted = true
        if responseRaw {
            deadline.set(.upgraded, restart: true)
            return taken
        }
        responses.feed(UnsafeRawBufferPointer(rebasing: bytes[..<taken]))
        do {
            while !closed, let event = try responses.next() { observe(event) }
        } catch {
            Console.throttledHeadline("relay", "Share \(share?.name ?? "?"): malformed response from the machine (\(error)); closing the connection.")
            abort(by: "machine")
            return taken
        }
        if !closed { answerToUpgrade() }
        if !closed { updateDeadline(clientSent: false) }
        return taken
    }

    /// The machine answered an upgrade request: the bytes the parser held become raw (it switched
    /// protocols) or the next request (it did not; that answer has ended).
    private func answerToUpgrade() {
        guard requests.isAwaitingUpgrade else { return }
        if responseRaw {
            requests.acceptUpgrade()
        } else if exchanges.isEmpty {
            requests.declineUpgrade()
        } else {
            return
        }
        processRequests()
        guard !closed else { return }
        if clientEOF && toStream.isEmpty { stream?.finishWriting() }
        browser.resumeReading()
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
            deadline.set(.upgraded, restart: true)
        }
    }

    /// Logs the oldest exchange; its size is what the machine sent since the previous one ended,
    /// unless the relay answered itself (`bytes`). `aborted` names the side that cut it short.
    private func logFirstExchange(bytes: Int? = nil, aborted: String? = nil) {
        guard !exchanges.isEmpty else { return }
        var done = exchanges.removeFirst()
        AccessLog.metrics?.requestsFinished()
        done.bytes = bytes ?? responses.consumedBytes - responseBytesLogged
        responseBytesLogged = responses.consumedBytes
        responseStarted = false
        share?.traffic?.request(bytes: done.bytes)
        AccessLog.record(share: share?.name ?? "-", client: clientIP, method: done.method, path: done.path,
                         status: done.status, bytes: done.bytes, seconds: MonotonicClock.now() - done.start,
                         aborted: aborted, userAgent: done.userAgent, loop: loop)
        if exchanges.isEmpty && !requestRaw && !responseRaw { deadline.set(.idle, restart: true) }
    }

    /// The machine closed its side and every byte of it reached the browser.
    private func machineFinished() {
        if !responseRaw {
            do {
                if let event = try responses.finishAtEOF() { observe(event) }
                while let event = try responses.next() { observe(event) }
            } catch {
                // Cut off mid-response: the browser sees the connection close, as it would directly.
                machineCutShort = true
            }
        }
        if !responseStarted && !exchanges.isEmpty && !closed {
            respondAndClose(status: 502, title: "Bad Gateway", message: "The shared machine closed the connection without answering.")
            return
        }
        // Nothing more can be asked on this connection.
        closeAfterFlush = true
        finishWhenQuiet()
    }

    private func streamWasReset(_ code: ResetCode) {
        stream = nil
        if !responseStarted && !exchanges.isEmpty {
            let unreachable = code == .refused || code == .unreachable || code == .timeout
            let message = unreachable
                ? "The shared machine did not accept the connection. Is its web server running?"
                : "The connection to the shared machine was lost."
            exchanges[0].status = 502
            let body = HTTPErrorPage.response(status: 502, title: "Bad Gateway", message: message, close: true)
            logFirstExchange(bytes: body.count)
            AccessLog.metrics?.requestsFinished(exchanges.count)
            exchanges.removeAll()
            ownAnswer.append(body)
            closeAfterFlush = true
            writeOwnAnswer()
        } else {
            abort(by: "machine")
        }
    }

    /// Writes the relay's own page; the rest waits for the browser to be writable.
    private func writeOwnAnswer() {
        while !ownAnswer.isEmpty && !closed {
            let written = ownAnswer.consume { browser.write($0) }
            if written == 0 {
                if !closed { browser.notifyWhenWritable() }
                return
            }
        }
        finishWhenQuiet()
    }

    // MARK: Answers from the relay itself

    private func answerUnknown(_ head: HTTPRequestHead) {
        // Same page for unknown, ended and expired names; a guessing client is slowed, then refused.
        let verdict = relay.limiter.recordMiss(clientIP)
        switch verdict {
        case .allow:
            respondAndClose(status: 404, title: "Not Found", message: "There is no share at this address.", for: head)
        case .delay(let seconds):
            // Logged when answered, with the time the client really waited.
            readingHeld = true
            deadline.clear()
            let start = MonotonicClock.now()
            loop.schedule(after: seconds) { [weak self] in
                self?.respondAndClose(status: 404, title: "Not Found", message: "There is no share at this address.",
                                      for: head, since: start)
            }
        case .refuse:
            Console.throttledHeadline("relay", "Refused \(clientIP): too many requests for unknown shares.")
            respondAndClose(status: 429, title: "Too Many Requests",
                            message: "Too many requests for unknown addresses. Try again later.", for: head)
        }
    }

    /// Applies the share's access rules to one request; false when the relay answered it instead,
    /// or when a password check is under way (`checkPassword` forwards the request if it passes).
    /// A refusal after admitted requests (pipelined, with other credentials) cuts their responses
    /// short, as any answer of the relay's mid-conversation does; browsers do not pipeline.
    private func admits(_ head: HTTPRequestHead, to target: HTTPProxyShare) -> Bool {
        guard let access = target.access else { return true }
        let authorization = head.headers["Authorization"]
        if peerAdmitted && (access.basicAuth == nil || (authorization != nil && authorization == admittedAuthorization)) {
            return true
        }
        switch access.admit(clientIP: clientIP, authorization: authorization, limiter: relay.limiter) {
        case .admit:
            peerAdmitted = true
            admittedAuthorization = authorization
            return true
        case .refuse(let status, let reason, let delay):
            refuse(head, by: access, share: target.name, status: status, reason: reason, delay: delay, since: MonotonicClock.now())
        case .checkPassword(let value):
            checkPassword(value, for: head, by: access, share: target.name)
        }
        return false
    }

    /// A password the share has not seen verified: one scrypt on the relay's password thread
    /// (`PasswordChecker`), never on this loop. The browser is not read meanwhile; a match forwards
    /// the request and carries on with the connection, a miss is refused as any wrong password.
    private func checkPassword(_ authorization: String, for head: HTTPRequestHead, by access: ShareAccess, share name: String) {
        readingHeld = true
        deadline.clear()
        let start = MonotonicClock.now()
        let queued = relay.passwordChecker.submit({ access.verify(authorization) }, for: GuessLimiter.client(clientIP),
                                                  on: loop) { [weak self] matched in
            guard let self, !self.closed else { return }
            guard let matched else {
                return self.refuse(head, by: access, share: name, status: 503, reason: "basic-auth:busy", delay: 0, since: start)
            }
            switch access.admit(clientIP: self.clientIP, passwordMatched: matched, limiter: self.relay.limiter) {
            case .admit:
                self.peerAdmitted = true
                self.admittedAuthorization = authorization
                self.readingHeld = false
                if self.forward(head) { self.processRequests() }
                if !self.closed { self.browser.resumeReading() }
            case .refuse(let status, let reason, let delay):
                self.refuse(head, by: access, share: name, status: status, reason: reason, delay: delay, since: start)
            case .checkPassword:
                self.refuse(head, by: access, share: name, status: 503, reason: "basic-auth:busy", delay: 0, since: start)
            }
        }
        if !queued {
            // More checks wait than the thread can get through soon, or this client has its share
            // of them waiting: a flood is under way.
            refuse(head, by: access, share: name, status: 503, reason: "basic-auth:busy", delay: 0, since: start)
        }
    }

    /// The relay's answer to a request the share's rules refused, after `delay` seconds (a guesser
    /// is slowed); logged when answered, with the time the client waited and the rule that refused it.
    private func refuse(_ head: HTTPRequestHead, by access: ShareAccess, share name: String, status: Int, reason: String,
                        delay: Double, since start: Double) {
        let answer = { [weak self] in
            guard let self, !self.closed else { return }
            AccessLog.record(share: name, client: self.clientIP, method: head.method, path: head.target, status: status,
                             bytes: 0, seconds: MonotonicClock.now() - start, refusal: reason, loop: self.loop)
            switch status {
            case 401:
                var challenge = HTTPHeaders()
                challenge.add(name: "WWW-Authenticate", value: access.challenge)
                self.respondAndClose(status: 401, title: "Unauthorized", message: "This share asks for a user name and password.",
                                     extraHeaders: challenge, logged: true)
            case 403:
                self.respondAndClose(status: 403, title: "Forbidden", message: "This share does not accept requests from your address.",
                                     logged: true)
            case 503:
                self.respondAndClose(status: 503, title: "Service Unavailable",
                                     message: "The relay is busy checking passwords. Try again in a moment.", logged: true)
            default:
                self.respondAndClose(status: 429, title: "Too Many Requests", message: "Too many wrong passwords. Try again later.",
                                     logged: true)
            }
        }
        if delay > 0 {
            readingHeld = true
            deadline.clear()
            loop.schedule(after: delay) { answer() }
        } else {
            answer()
        }
    }

    private func respondToBadRequest(_ error: HTTPParseError) {
        let status = error.suggestedStatus
        let title = status == 431 ? "Request Header Fields Too Large" : status == 501 ? "Not Implemented" : "Bad Request"
        if exchanges.isEmpty && stream == nil {
            respondAndClose(status: status, title: title, message: "The relay could not read this request: \(error).")
        } else {
            // Mid-conversation with the machine: a clean answer is no longer possible.
            abort(by: "client")
        }
    }

    /// Answers with the relay's own page and closes. Unless the caller logs it (`logged`), the
    /// answer is logged, with the page's size: as the answer to the oldest forwarded request if one
    /// waits, else to `head`, else with no request (`- -`: none was read).
    private func respondAndClose(status: Int, title: String, message: String, extraHeaders: HTTPHeaders = HTTPHeaders(),
                                 for head: HTTPRequestHead? = nil, since start: Double? = nil, logged: Bool = false) {
        guard !closed else { return }
        deadline.clear()
        // The relay answers itself: whatever the machine still sends on this connection is moot.
        stream?.reset(code: .cancelled, reason: "relay answered")
        stream = nil
        let page = HTTPErrorPage.response(status: status, title: title, message: message, close: true, extraHeaders: extraHeaders)
        if !logged {
            if !exchanges.isEmpty {
                exchanges[0].status = status
                logFirstExchange(bytes: page.count)
                AccessLog.metrics?.requestsFinished(exchanges.count)
                exchanges.removeAll()
            } else {
                AccessLog.record(share: share?.name ?? "-", client: clientIP, method: head?.method ?? "-", path: head?.target ?? "-",
                                 status: status, bytes: page.count, seconds: start.map { MonotonicClock.now() - $0 } ?? 0,
                                 loop: loop)
            }
        }
        ownAnswer.append(page)
        closeAfterFlush = true
        writeOwnAnswer()
    }

    // MARK: Timers

    /// Chooses the deadline for where the connection is now, after bytes moved (`clientSent`: the
    /// browser's): upgraded, the idle limit for raw bytes (each restarts it); while a request body
    /// is coming, the body limit (each read restarts it); with part of a head, the head limit from
    /// its first byte (trickling does not extend it); while a forwarded request waits for its first
    /// response byte, the response-start limit; none while a response flows (the browser's pace is
    /// its own); between requests, the idle limit (set when the last exchange ended).
    private func updateDeadline(clientSent: Bool) {
        if requestRaw || responseRaw { return deadline.set(.upgraded, restart: true) }
        if requests.isInBody { return deadline.set(.requestBody, restart: clientSent) }
        if exchanges.isEmpty {
            if requests.hasPartialHead { deadline.set(.head) }
        } else if !responseStarted {
            deadline.set(.responseStart)
        } else {
            deadline.clear()
        }
    }

    private func deadlinePassed(_ stage: HTTPProxyTimeouts.Stage) {
        switch stage {
        case .idle:
            if exchanges.isEmpty && !requestRaw { close() }
        case .head:
            respondAndClose(status: 408, title: "Request Timeout", message: "The request head did not arrive in time.")
        case .requestBody:
            // Not the browser's fault while the machine has not taken what was sent: the machine
            // then gets the response-start limit to make progress.
            if !toStream.isEmpty || stream?.writeCapacity == 0 { return deadline.set(.responseStart, restart: true) }
            if responseStarted { return abort(by: "client") }
            respondAndClose(status: 408, title: "Request Timeout", message: "The request body stopped arriving.")
        case .responseStart:
            respondAndClose(status: 504, title: "Gateway Timeout", message: "The shared machine did not answer in time.")
        case .upgraded:
            close()
        }
    }

    // MARK: Moving and ending

    /// Hands the browser socket to the share's loop, with the parser state and the head in hand.
    private func moveTo(_ target: EventLoop, head: HTTPRequestHead) {
        deadline.stop()
        closed = true
        browser.events = nil
        guard let fd = browser.release() else { return }
        let parser = requests
        let relay = self.relay
        let timeouts = self.timeouts
        let clientIP = self.clientIP
        target.execute {
            let moved = HTTPProxyConnection(relay: relay, timeouts: timeouts, loop: target, socket: Socket(adopting: fd),
                                            clientIP: clientIP, parser: parser)
            guard moved.start() else { return }
            // The rest of what the browser sent is in the parser or still in the socket (epoll says).
            if moved.forward(head) { moved.processRequests() }
        }
    }

    /// Closes once nothing is on its way to the browser (no relay page, no response bytes held).
    private func finishWhenQuiet() {
        guard closeAfterFlush, ownAnswer.isEmpty, stream?.isHolding != true, !closed else { return }
        close()
    }

    /// Resets both sides; `side` is who cut the conversation short (for the access log).
    private func abort(by side: String) {
        guard !closed else { return }
        stream?.reset(code: .cancelled, reason: "browser connection closed")
        teardown(cutShortBy: side)
        browser.reset(code: .cancelled, reason: "aborted")
    }

    private func close() {
        guard !closed else { return }
        // A reset of a stream both sides already finished is ignored by the peer; otherwise it frees it.
        stream?.reset(code: .cancelled, reason: "connection closed")
        teardown(cutShortBy: machineCutShort ? "machine" : "relay")
        browser.close()
    }

    private func teardown(cutShortBy side: String) {
        closed = true
        deadline.stop()
        stream?.events = nil
        stream = nil
        browser.events = nil
        // A request still unanswered gets its line, marked: with what got through of its response,
        // or 499 (nginx's "client closed request") when none had begun.
        if !exchanges.isEmpty, share != nil {
            if exchanges[0].status == 0 { exchanges[0].status = 499 }
            logFirstExchange(aborted: side)
        }
        AccessLog.metrics?.requestsFinished(exchanges.count)
        exchanges.removeAll()
    }
}
