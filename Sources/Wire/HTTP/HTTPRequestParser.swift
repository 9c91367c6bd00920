// Sans-I/O HTTP/1.1 request parser for the relay's public side. Feed it bytes from the
// client connection, pull events with `next()`. Body events carry the raw wire bytes
// (chunk framing included) so the proxy forwards them unchanged; the parser only tracks
// where each message ends. Nothing is accumulated beyond the bytes not yet consumed.

public enum HTTPRequestEvent: Equatable, Sendable {
    case head(HTTPRequestHead)
    /// Raw body bytes as they arrived, chunk framing included: forward them verbatim.
    case body([UInt8])
    /// The message is complete.
    case end
    /// Once the upgrade a request asked for (Upgrade/CONNECT) was accepted (`acceptUpgrade()`):
    /// every further byte is opaque. Emitted once at once (possibly empty), then whenever bytes
    /// are buffered.
    case upgraded([UInt8])
}

/// Event order per message: `.head`, zero or more `.body`, `.end`. After an upgrade request's
/// `.end` the parser holds what follows — neither parsed nor handed out, since until the server
/// answers nobody knows whether it is a new request or the upgraded protocol (passing it on
/// unparsed would let a request be smuggled behind a refused upgrade) — until the caller says:
/// `acceptUpgrade()` (the server answered 101, or 2xx to CONNECT): `.upgraded(...)` events only
/// from then on; `declineUpgrade()` (any other final answer): HTTP again, the held bytes being
/// the next request. Leading empty lines before a request
/// line are skipped (RFC 9112 §2.2). After an error the parser stays failed and `next()`
/// rethrows the same error; answer with `error.suggestedStatus` and close.
public struct HTTPRequestParser: Sendable {
    private enum State: Sendable {
        case head
        case body
        case endPending
        case awaitingUpgrade
        case upgradedFirst
        case upgraded
        case failed(HTTPParseError)
    }

    public let maxHeadBytes: Int
    public let maxHeaders: Int

    private var buffer = HTTPInputBuffer()
    private var state: State = .head
    private var scanned = 0
    private var tracker = HTTPBodyTracker(framing: .none)
    private var upgradeAfterMessage = false

    public init(maxHeadBytes: Int = 32 * 1024, maxHeaders: Int = 100) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaders = maxHeaders
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) { buffer.append(bytes) }

    /// How many bytes at the start of `input` are body bytes that may go out as they are: the
    /// parser is inside a body and holds nothing, so they need no copy. They count as parsed (no
    /// `.body` event); the caller forwards `input[..<n]` and feeds the rest. Zero outside a body,
    /// or when the framing needs a closer look (feeding it lets `next` report the error).
    public mutating func passBody(_ input: UnsafeRawBufferPointer) -> Int {
        guard case .body = state, buffer.isEmpty, !input.isEmpty else { return 0 }
        var t = tracker
        let passed = try? input.withMemoryRebound(to: UInt8.self) { (b) throws(HTTPParseError) -> Int in try t.consume(b) }
        guard let passed else { return 0 }
        tracker = t
        if tracker.isComplete { state = .endPending }
        return passed
    }
    public mutating func feed(_ bytes: [UInt8]) { buffer.append(bytes) }

    /// Framing of the message being parsed (or the last one).
    public var framing: HTTPBodyFraming { tracker.framing }

    /// Between messages with nothing buffered (for keep-alive idle timeouts).
    public var isIdle: Bool {
        if case .head = state { return buffer.isEmpty }
        return false
    }

    /// Some bytes of a head are buffered but the head is not complete (slow-head / 408 timer).
    public var hasPartialHead: Bool {
        if case .head = state { return !buffer.isEmpty }
        return false
    }

    /// Inside a request body (its bytes are still to come: the body deadline runs).
    public var isInBody: Bool {
        if case .body = state { return true }
        return false
    }

    /// An upgrade request ended and the server's answer is not known yet: bytes are held.
    public var isAwaitingUpgrade: Bool {
        if case .awaitingUpgrade = state { return true }
        return false
    }

    /// The server switched protocols: from now on every byte (those held first) is `.upgraded`.
    public mutating func acceptUpgrade() {
        guard case .awaitingUpgrade = state else { return }
        state = .upgradedFirst
    }

    /// The server refused the upgrade: the held bytes are parsed as the next request.
    public mutating func declineUpgrade() {
        guard case .awaitingUpgrade = state else { return }
        state = .head
        scanned = 0
    }

    /// True once the connection has switched to raw bytes.
    public var isUpgraded: Bool {
        switch state {
        case .upgraded, .upgradedFirst: return true
        default: return false
        }
    }

    /// Bytes fed but not yet returned in an event.
    public var bufferedByteCount: Int { buffer.readableCount }

    public mutating func next() throws(HTTPParseError) -> HTTPRequestEvent? {
        do throws(HTTPParseError) {
            return try step()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> HTTPRequestEvent? {
        switch state {
        case .failed(let error):
            throw error
        case .head:
            return try parseHead()
        case .body:
            if buffer.isEmpty { return nil }
            var t = tracker
            let n = try buffer.withReadable { (bytes) throws(HTTPParseError) in try t.consume(bytes) }
            tracker = t
            if tracker.isComplete { state = .endPending }
            if n > 0 { return .body(buffer.take(n)) }
            return try step()
        case .endPending:
            state = upgradeAfterMessage ? .awaitingUpgrade : .head
            scanned = 0
            return .end
        case .awaitingUpgrade:
            return nil
        case .upgradedFirst:
            state = .upgraded
            return .upgraded(buffer.takeAll())
        case .upgraded:
            if buffer.isEmpty { return nil }
            return .upgraded(buffer.takeAll())
        }
    }

    private mutating func parseHead() throws(HTTPParseError) -> HTTPRequestEvent? {
        // Skip empty lines before the request line.
        let skip = try buffer.withReadable { bytes -> Int in
            var i = 0
            while i < bytes.count {
                if bytes[i] == 0x0A { i += 1 }
                else if bytes[i] == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 2 }
                else { break }
            }
            return i
        }
        if skip > 0 { buffer.skip(skip); scanned = 0 }
        if buffer.isEmpty { return nil }

        var scannedLocal = scanned
        let maxHead = maxHeadBytes, maxFields = maxHeaders
        let parsed: (HTTPRequestHead, Int)? = try buffer.withReadable { (bytes) throws(HTTPParseError) in
            guard let end = findHeadEnd(bytes, scanned: &scannedLocal) else {
                if bytes.count >= maxHead { throw .headTooLarge }
                return nil
            }
            if end > maxHead { throw .headTooLarge }
            let head = UnsafeBufferPointer(rebasing: bytes[0..<end])
            return (try parseRequestHead(head, maxHeaders: maxFields), end)
        }
        scanned = scannedLocal
        guard let (head, length) = parsed else { return nil }
        buffer.skip(length)
        scanned = 0
        tracker = HTTPBodyTracker(framing: try requestFraming(head))
        upgradeAfterMessage = head.isUpgrade
        state = tracker.isComplete ? .endPending : .body
        return .head(head)
    }
}

func parseRequestHead(_ head: UnsafeBufferPointer<UInt8>, maxHeaders: Int) throws(HTTPParseError) -> HTTPRequestHead {
    let lines = try headLines(head)
    guard let requestLine = lines.first else { throw .malformed("empty request") }
    let line = UnsafeBufferPointer(rebasing: head[requestLine])

    // method SP request-target SP HTTP-version, single spaces.
    var sp1 = -1, sp2 = -1
    for j in 0..<line.count where line[j] == 0x20 {
        if sp1 < 0 { sp1 = j } else if sp2 < 0 { sp2 = j } else { throw .malformed("extra space in request line") }
    }
    guard sp1 > 0, sp2 > sp1 + 1, sp2 < line.count - 1 else { throw .malformed("request line is not 'METHOD target HTTP/x.y'") }
    for j in 0..<sp1 where !isTchar(line[j]) { throw .malformed("invalid character in method") }
    for j in (sp1 + 1)..<sp2 {
        let b = line[j]
        if b <= 0x20 || b == 0x7F { throw .malformed("invalid character in request target") }
    }
    let version = try parseVersion(UnsafeBufferPointer(rebasing: line[(sp2 + 1)...]))
    let method = String(decoding: UnsafeBufferPointer(rebasing: line[0..<sp1]), as: UTF8.self)
    let target = try decodeString(UnsafeBufferPointer(rebasing: line[(sp1 + 1)..<sp2]), strict: true, what: "request target")
    let headers = try parseHeaderFields(head, lines: lines.dropFirst(), maxHeaders: maxHeaders, strictUTF8: true)

    let hosts = headers.values(named: "Host")
    if hosts.count > 1 { throw .malformed("more than one Host header") }
    if hosts.isEmpty && version.minor >= 1 { throw .malformed("HTTP/1.1 request without Host header") }
    return HTTPRequestHead(method: method, target: target, version: version, headers: headers)
}
