// Sans-I/O HTTP/1.1 response parser for the relay's upstream side. The proxy forwards the
// raw bytes it hands out (`.head`'s raw plus `.body` bytes) and uses the parsed head for
// access logs and to know where each response ends or when a 101/CONNECT upgrade happens.

public enum HTTPResponseEvent: Equatable, Sendable {
    /// A response head; `raw` is exactly the head bytes as received, to forward.
    case head(HTTPResponseHead, raw: [UInt8])
    /// Raw body bytes, chunk framing included.
    case body([UInt8])
    /// The response is complete.
    case end
    /// After a 101 or a 2xx answer to CONNECT: opaque bytes. Emitted once right after
    /// `.end` (possibly empty), then whenever bytes are buffered.
    case upgraded([UInt8])
}

/// Event order per request: zero or more interim `.head` (1xx other than 101, no `.end`
/// after them), then the final `.head`, zero or more `.body`, `.end`; after a 101 or a
/// successful CONNECT, `.upgraded(...)` only. Call `expectResponse(toMethod:)` once per
/// forwarded request, in order. After an error the parser stays failed.
public struct HTTPResponseParser: Sendable {
    private enum State: Sendable {
        case head
        case body
        case endPending
        case upgradedFirst
        case upgraded
        case finished          // read-until-close body ended at EOF
        case failed(HTTPParseError)
    }

    public let maxHeadBytes: Int
    public let maxHeaders: Int
    /// Observing mode, for a proxy that forwards the bytes it fed in itself: events carry no
    /// bytes (`raw` and payloads are empty), the head keeps only the fields that frame the message
    /// (Content-Length, Transfer-Encoding, Connection, Upgrade), and `consumedBytes` counts. Body
    /// bytes that `feed` can count on arrival produce no `.body` event.
    public let observing: Bool
    /// Bytes of input accounted for by the events returned so far.
    public private(set) var consumedBytes = 0

    private var buffer = HTTPInputBuffer()
    private var state: State = .head
    private var scanned = 0
    private var tracker = HTTPBodyTracker(framing: .none)
    private var upgradeAfterMessage = false
    private var pendingMethods: [String] = []
    private var pendingIndex = 0
    private var sawEOF = false

    public init(maxHeadBytes: Int = 64 * 1024, maxHeaders: Int = 200, observing: Bool = false) {
        self.observing = observing
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaders = maxHeaders
    }

    /// Records that a request with this method was forwarded; responses are matched to
    /// requests in this order (pipelining).
    public mutating func expectResponse(toMethod method: String) {
        if pendingIndex > 0 && pendingIndex == pendingMethods.count {
            pendingMethods.removeAll(keepingCapacity: true)
            pendingIndex = 0
        }
        pendingMethods.append(method)
    }

    /// Requests forwarded whose response has not ended yet.
    public var outstandingResponses: Int { pendingMethods.count - pendingIndex }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(observing ? countBody(bytes) : bytes)
    }

    public mutating func feed(_ bytes: [UInt8]) { bytes.withUnsafeBytes { feed($0) } }

    /// Observing mode: body bytes arriving while nothing is buffered are counted straight from the
    /// input, never copied (the relay only needs to know where a body ends, and a download is
    /// almost all body). Returns what is left to buffer: the bytes after the body, or everything
    /// when the framing needs a closer look (`next` then reports the error).
    private mutating func countBody(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard case .body = state, buffer.isEmpty, !bytes.isEmpty, !sawEOF else { return bytes }
        var t = tracker
        let counted = try? bytes.withMemoryRebound(to: UInt8.self) { (b) throws(HTTPParseError) -> Int in try t.consume(b) }
        guard let counted else { return bytes }
        tracker = t
        consumedBytes += counted
        if tracker.isComplete { state = .endPending }
        return UnsafeRawBufferPointer(rebasing: bytes[counted...])
    }

    /// Framing of the response being parsed (or the last one).
    public var framing: HTTPBodyFraming { tracker.framing }

    /// Between responses with nothing buffered.
    public var isIdle: Bool {
        if case .head = state { return buffer.isEmpty }
        return false
    }

    public var isUpgraded: Bool {
        switch state {
        case .upgraded, .upgradedFirst: return true
        default: return false
        }
    }

    /// The upstream closed its side. Returns the next event; keep calling `next()` until nil.
    /// A read-until-close body ends here with `.end`; EOF inside any other message throws
    /// `unexpectedEOF`; EOF between responses is fine (nil).
    public mutating func finishAtEOF() throws(HTTPParseError) -> HTTPResponseEvent? {
        sawEOF = true
        return try next()
    }

    public mutating func next() throws(HTTPParseError) -> HTTPResponseEvent? {
        do throws(HTTPParseError) {
            return try step()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> HTTPResponseEvent? {
        switch state {
        case .failed(let error):
            throw error
        case .finished:
            return nil
        case .head:
            if buffer.isEmpty { return nil }
            if outstandingResponses == 0 { throw .unsolicitedResponse }
            if let event = try parseHead() { return event }
            if sawEOF { throw .unexpectedEOF }
            return nil
        case .body:
            if buffer.isEmpty {
                guard sawEOF else { return nil }
                if tracker.framing == .untilClose {
                    state = .finished
                    pendingIndex += 1
                    return .end
                }
                throw .unexpectedEOF
            }
            var t = tracker
            let n = try buffer.withReadable { (bytes) throws(HTTPParseError) in try t.consume(bytes) }
            tracker = t
            if tracker.isComplete { state = .endPending }
            if n > 0 { return .body(take(n)) }
            return try step()
        case .endPending:
            pendingIndex += 1
            state = upgradeAfterMessage ? .upgradedFirst : .head
            scanned = 0
            return .end
        case .upgradedFirst:
            state = .upgraded
            return .upgraded(take(buffer.readableCount))
        case .upgraded:
            if buffer.isEmpty { return nil }
            return .upgraded(take(buffer.readableCount))
        }
    }

    private mutating func parseHead() throws(HTTPParseError) -> HTTPResponseEvent? {
        var scannedLocal = scanned
        let maxHead = maxHeadBytes, maxFields = maxHeaders
        let parsed: (HTTPResponseHead, Int)? = try buffer.withReadable { (bytes) throws(HTTPParseError) in
            guard let end = findHeadEnd(bytes, scanned: &scannedLocal) else {
                if bytes.count >= maxHead { throw .headTooLarge }
                return nil
            }
            if end > maxHead { throw .headTooLarge }
            return (try parseResponseHead(UnsafeBufferPointer(rebasing: bytes[0..<end]), maxHeaders: maxFields,
                                          onlyFraming: observing), end)
        }
        scanned = scannedLocal
        guard let (head, length) = parsed else { return nil }
        let raw = take(length)
        scanned = 0
        let method = pendingMethods[pendingIndex]
        if (100..<200).contains(head.status) && head.status != 101 {
            // Interim response: another head follows for the same request.
            return .head(head, raw: raw)
        }
        tracker = HTTPBodyTracker(framing: try responseFraming(head, requestMethod: method))
        upgradeAfterMessage = head.status == 101 || (method == "CONNECT" && (200..<300).contains(head.status))
        state = tracker.isComplete ? .endPending : .body
        return .head(head, raw: raw)
    }
}

extension HTTPResponseParser {
    /// Hands out the next `n` input bytes, or in observing mode only counts them.
    private mutating func take(_ n: Int) -> [UInt8] {
        consumedBytes += n
        if observing {
            buffer.skip(n)
            return []
        }
        return buffer.take(n)
    }
}

/// The fields that decide where a response ends and whether the connection goes on.
private func isFramingField(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
    for known in ["content-length", "transfer-encoding", "connection", "upgrade"] where known.utf8.count == name.count {
        if zip(known.utf8, name).allSatisfy({ $0 == asciiLower($1) }) { return true }
    }
    return false
}

func parseResponseHead(_ head: UnsafeBufferPointer<UInt8>, maxHeaders: Int, onlyFraming: Bool = false) throws(HTTPParseError) -> HTTPResponseHead {
    let lines = try headLines(head)
    guard let statusLine = lines.first else { throw .malformed("empty status line") }
    let line = UnsafeBufferPointer(rebasing: head[statusLine])
    // HTTP-version SP 3DIGIT SP reason-phrase; a missing reason (with or without the SP) is tolerated.
    guard line.count >= 12, line[8] == 0x20 else { throw .malformed("status line is not 'HTTP/x.y NNN reason'") }
    let version = try parseVersion(UnsafeBufferPointer(rebasing: line[0..<8]))
    var status = 0
    for j in 9..<12 {
        let b = line[j]
        guard b >= 0x30 && b <= 0x39 else { throw .malformed("status code is not three digits") }
        status = status * 10 + Int(b - 0x30)
    }
    guard status >= 100 else { throw .malformed("status code below 100") }
    var reason = ""
    if line.count > 12 {
        guard line[12] == 0x20 else { throw .malformed("status code is not three digits") }
        let r = UnsafeBufferPointer(rebasing: line[13...])
        for b in r where (b < 0x20 && b != 0x09) || b == 0x7F { throw .malformed("control character in reason phrase") }
        reason = String(decoding: r, as: UTF8.self)
    }
    let keep: ((UnsafeBufferPointer<UInt8>) -> Bool)? = onlyFraming ? { isFramingField($0) } : nil
    let headers = try parseHeaderFields(head, lines: lines.dropFirst(), maxHeaders: maxHeaders, strictUTF8: false, keep: keep)
    return HTTPResponseHead(version: version, status: status, reason: reason, headers: headers)
}
