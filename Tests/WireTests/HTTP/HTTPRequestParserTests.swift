import XCTest
@testable import Wire

/// Drives a parser with chunks and collects events; body bytes are concatenated per message.
struct RequestCollector {
    var parser: HTTPRequestParser
    var events: [HTTPRequestEvent] = []

    init(_ parser: HTTPRequestParser = HTTPRequestParser()) { self.parser = parser }

    mutating func feed(_ bytes: [UInt8]) throws(HTTPParseError) {
        parser.feed(bytes)
        while let event = try parser.next() { events.append(event) }
    }

    /// Events with adjacent `.body`/`.upgraded` events merged (chunk boundaries are not semantic).
    var merged: [HTTPRequestEvent] {
        var out: [HTTPRequestEvent] = []
        for e in events {
            switch (out.last, e) {
            case (.body(let a)?, .body(let b)): out[out.count - 1] = .body(a + b)
            case (.upgraded(let a)?, .upgraded(let b)): out[out.count - 1] = .upgraded(a + b)
            default: out.append(e)
            }
        }
        return out
    }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

func parseRequests(_ s: String, chunk: Int? = nil) throws(HTTPParseError) -> [HTTPRequestEvent] {
    var c = RequestCollector()
    let all = bytes(s)
    if let chunk {
        var i = 0
        while i < all.count { try c.feed(Array(all[i..<min(i + chunk, all.count)])); i += chunk }
    } else {
        try c.feed(all)
    }
    return c.merged
}

func requestError(_ s: String, _ parser: HTTPRequestParser = HTTPRequestParser()) -> HTTPParseError? {
    var c = RequestCollector(parser)
    do { try c.feed(bytes(s)); return nil } catch { return error }
}

final class HTTPRequestParserTests: XCTestCase {
    func testSimpleGet() throws {
        let events = try parseRequests("GET /index.html?q=1 HTTP/1.1\r\nHost: demo.share.localhost:8080\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n")
        XCTAssertEqual(events.count, 2)
        guard case .head(let head) = events[0] else { return XCTFail() }
        XCTAssertEqual(head.method, "GET")
        XCTAssertEqual(head.target, "/index.html?q=1")
        XCTAssertEqual(head.version, .http1_1)
        XCTAssertEqual(head.host, "demo.share.localhost:8080")
        XCTAssertEqual(head.headers["user-agent"], "test")
        XCTAssertEqual(head.headers.count, 3)
        XCTAssertTrue(head.keepAlive)
        XCTAssertFalse(head.isUpgrade)
        XCTAssertEqual(events[1], .end)
    }

    func testIdleAndPartialHeadFlags() throws {
        var p = HTTPRequestParser()
        XCTAssertTrue(p.isIdle); XCTAssertFalse(p.hasPartialHead)
        p.feed(bytes("GET / HTTP/1.1\r\nHo"))
        XCTAssertNil(try p.next())
        XCTAssertFalse(p.isIdle); XCTAssertTrue(p.hasPartialHead)
        p.feed(bytes("st: a\r\n\r\n"))
        guard case .head = try p.next() else { return XCTFail() }
        XCTAssertFalse(p.hasPartialHead)
        XCTAssertEqual(try p.next(), .end)
        XCTAssertTrue(p.isIdle)
        XCTAssertNil(try p.next())
    }

    func testKeepAliveSequenceOfThreeInOneBuffer() throws {
        let s = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
            + "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
            + "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        let events = try parseRequests(s)
        let targets = events.compactMap { if case .head(let h) = $0 { return h.target } else { return nil } }
        XCTAssertEqual(targets, ["/a", "/b", "/c"])
        XCTAssertEqual(events.filter { $0 == .end }.count, 3)
        XCTAssertEqual(events[3], .body(bytes("hello")))
        guard case .head(let last) = events[5] else { return XCTFail() }
        XCTAssertFalse(last.keepAlive)
    }

    func testPipelinedRequestsArrivingInPieces() throws {
        let s = "PUT /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
            + "PUT /2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
            + "\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n"   // a stray CRLF between requests is skipped
        let expected = try parseRequests(s)
        XCTAssertEqual(expected.count, 8)
        XCTAssertEqual(expected[1], .body(bytes("abc")))
        XCTAssertEqual(expected[4], .body(bytes("3\r\nxyz\r\n0\r\n\r\n")))
        for chunk in [1, 2, 5, 17] {
            XCTAssertEqual(try parseRequests(s, chunk: chunk), expected, "chunk size \(chunk)")
        }
    }

    func testContentLengthBodySplitAtEveryOffset() throws {
        let body = "0123456789abcdefghij"
        let s = "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n" + body + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
        let all = bytes(s)
        for split in 0...all.count {
            var c = RequestCollector()
            try c.feed(Array(all[0..<split]))
            try c.feed(Array(all[split...]))
            let m = c.merged
            XCTAssertEqual(m.count, 5, "split \(split)")
            XCTAssertEqual(m[1], .body(bytes(body)), "split \(split)")
            XCTAssertEqual(m[2], .end)
            guard case .head(let next) = m[3] else { return XCTFail() }
            XCTAssertEqual(next.target, "/next")
            // No body event may be empty.
            XCTAssertFalse(c.events.contains(.body([])))
        }
    }

    func testChunkedWithExtensionsAndTrailersByteByByte() throws {
        let body = "4;name=value;quoted=\"a b\"\r\nWiki\r\n"
            + "5 ; ext\r\npedia\r\n"
            + "E\r\n in\r\n\r\nchunks.\r\n"
            + "0;last\r\nExpires: never\r\nX-Checksum: abc\r\n\r\n"
        let s = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body + "GET /after HTTP/1.1\r\nHost: h\r\n\r\n"
        let events = try parseRequests(s, chunk: 1)
        XCTAssertEqual(events.count, 5)
        XCTAssertEqual(events[1], .body(bytes(body)), "body events carry the raw chunked bytes")
        XCTAssertEqual(events[2], .end)
        guard case .head(let after) = events[3] else { return XCTFail() }
        XCTAssertEqual(after.target, "/after")
        XCTAssertEqual(try parseRequests(s), events)
    }

    func testChunkedErrors() {
        let prefix = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        for bad in ["zz\r\n", "4\r\nabcdX\r\n", "4\nabcd\r\n0\r\n\r\n", "4\r\nabcd\r\n0\r\nX: y\n\r\n", "FFFFFFFFFFFFFFFFF\r\n", " 4\r\n"] {
            guard case .invalidChunk? = requestError(prefix + bad) else { return XCTFail("accepted \(bad.debugDescription)") }
        }
    }

    func testTransferEncodingPlusContentLengthRejected() {
        let s = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        guard case .malformed? = requestError(s) else { return XCTFail() }
        XCTAssertEqual(requestError(s)?.suggestedStatus, 400)
        XCTAssertEqual(requestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), .unsupportedTransferEncoding)
        guard case .malformed? = requestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") else { return XCTFail() }
    }

    /// Only one `Transfer-Encoding: chunked` goes through: any other spelling is something the
    /// machine's server might frame differently from the relay.
    func testOnlyASingleChunkedTransferEncodingIsAccepted() {
        for coding in ["gzip, chunked", "chunked, gzip", "identity", "chunked;q=1", "chunked,", "x-chunked"] {
            XCTAssertEqual(requestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \(coding)\r\n\r\n"),
                           .unsupportedTransferEncoding, coding)
        }
        XCTAssertEqual(HTTPParseError.unsupportedTransferEncoding.suggestedStatus, 501)
        for pair in [("chunked", "chunked"), ("gzip", "chunked"), ("chunked", "identity")] {
            let s = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \(pair.0)\r\ntransfer-encoding: \(pair.1)\r\n\r\n0\r\n\r\n"
            XCTAssertEqual(requestError(s), .malformed("more than one Transfer-Encoding header"), "\(pair)")
        }
        XCTAssertNil(requestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n"),
                     "the coding's name is case-insensitive")
    }

    func testBadContentLength() {
        for cl in ["abc", "-1", "+5", "", "1 2", "0x10", "99999999999999999999"] {
            XCTAssertEqual(requestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(cl)\r\n\r\n"), .invalidContentLength, cl)
        }
        XCTAssertEqual(requestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), .invalidContentLength)
        XCTAssertEqual(requestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n"), .invalidContentLength)
        // Identical repeated values are one length.
        XCTAssertNil(requestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc"))
    }

    func testOversizedHead() {
        let small = HTTPRequestParser(maxHeadBytes: 1024, maxHeaders: 10)
        let big = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + String(repeating: "a", count: 2000)
        XCTAssertEqual(requestError(big, small), .headTooLarge, "incomplete head over the limit")
        XCTAssertEqual(requestError(big + "\r\n\r\n", small), .headTooLarge)
        var many = "GET / HTTP/1.1\r\nHost: h\r\n"
        for i in 0..<20 { many += "X-\(i): v\r\n" }
        XCTAssertEqual(requestError(many + "\r\n", small), .headTooLarge)
        XCTAssertEqual(HTTPParseError.headTooLarge.suggestedStatus, 431)
    }

    func testMalformedRequestLines() {
        for line in ["GET /\r\n", "GET  / HTTP/1.1\r\n", "GET / HTTP/1.1 \r\n", "G(T / HTTP/1.1\r\n", "GET / HTTQ/1.1\r\n",
                     "GET /a b HTTP/1.1\r\n", " GET / HTTP/1.1\r\n", "GET / HTTP/11\r\n", "GET /\u{7F} HTTP/1.1\r\n"] {
            guard case .malformed? = requestError(line + "Host: h\r\n\r\n") else { return XCTFail("accepted \(line.debugDescription)") }
        }
        XCTAssertEqual(requestError("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), .unsupportedVersion)
        XCTAssertEqual(HTTPParseError.unsupportedVersion.suggestedStatus, 505)
    }

    func testMalformedHeaders() {
        let cases = [
            "NoColonHere\r\n",
            "Name : value\r\n",          // whitespace before colon
            "X-A: a\r\n  folded\r\n",    // obs-fold
            "Bad(Name): v\r\n",
            ": empty\r\n",
            "X-A: a\u{01}b\r\n",
            "X-A: a\rb\r\n",             // bare CR
        ]
        for h in cases {
            guard case .malformed? = requestError("GET / HTTP/1.1\r\nHost: h\r\n" + h + "\r\n") else { return XCTFail("accepted \(h.debugDescription)") }
        }
        guard case .malformed? = requestError("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") else { return XCTFail("two Hosts") }
        guard case .malformed? = requestError("GET / HTTP/1.1\r\n\r\n") else { return XCTFail("1.1 without Host") }
    }

    func testBareLFToleratedInHead() throws {
        let events = try parseRequests("GET / HTTP/1.1\nHost: h\nX-A:  spaced value \t\n\n")
        guard case .head(let head) = events[0] else { return XCTFail() }
        XCTAssertEqual(head.headers["x-a"], "spaced value")
        XCTAssertEqual(events[1], .end)
    }

    func testInvalidUTF8InRequestHeadRejected() {
        var c = RequestCollector()
        let raw = bytes("GET / HTTP/1.1\r\nHost: h\r\nX-A: ") + [0xFF, 0xFE] + bytes("\r\n\r\n")
        XCTAssertThrowsError(try c.feed(raw))
    }

    func testWebSocketUpgradeWithTrailingBytes() throws {
        let head = "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        var c = RequestCollector()
        try c.feed(bytes(head) + frame)
        guard case .head(let h) = c.events[0] else { return XCTFail() }
        XCTAssertTrue(h.isUpgrade)
        XCTAssertEqual(Array(c.events.dropFirst()), [.end], "what follows is held until the server answers")
        XCTAssertTrue(c.parser.isAwaitingUpgrade)
        XCTAssertEqual(c.parser.bufferedByteCount, frame.count)
        c.parser.acceptUpgrade()
        try c.feed([])
        XCTAssertEqual(Array(c.events.dropFirst()), [.end, .upgraded(frame)])
        XCTAssertTrue(c.parser.isUpgraded)
        // Raw from now on, even bytes that look like HTTP.
        try c.feed(bytes("GET / HTTP/1.1\r\n\r\n"))
        XCTAssertEqual(c.events.last, .upgraded(bytes("GET / HTTP/1.1\r\n\r\n")))
    }

    func testUpgradeAcceptedWithNothingHeldSignalsAtOnce() throws {
        var c = RequestCollector()
        try c.feed(bytes("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"))
        XCTAssertEqual(Array(c.events.dropFirst()), [.end])
        c.parser.acceptUpgrade()
        try c.feed([])
        XCTAssertEqual(Array(c.events.dropFirst()), [.end, .upgraded([])])
        XCTAssertFalse(c.parser.isIdle)
    }

    /// Smuggling behind a refused upgrade: the bytes after an Upgrade request are a request of
    /// their own when the server says no, and must go through the parser (and its rules) as one.
    func testDeclinedUpgradeParsesTheHeldBytesAsTheNextRequest() throws {
        var c = RequestCollector()
        let smuggled = "GET /admin HTTP/1.1\r\nHost: other\r\nTransfer-Encoding: gzip\r\n\r\n"
        try c.feed(bytes("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n" + smuggled))
        XCTAssertEqual(c.events.count, 2)
        XCTAssertFalse(c.parser.isIdle)
        c.parser.declineUpgrade()
        XCTAssertThrowsError(try c.feed([]), "the held request is parsed, and refused by the rules") { error in
            XCTAssertEqual(error as? HTTPParseError, .unsupportedTransferEncoding)
        }

        var d = RequestCollector()
        try d.feed(bytes("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\n"))
        d.parser.declineUpgrade()
        try d.feed(bytes("Host: h\r\n\r\n"))
        guard case .head(let next) = d.events[2] else { return XCTFail("\(d.events)") }
        XCTAssertEqual(next.target, "/next")
        XCTAssertEqual(d.events.last, .end)
    }

    func testHTTP10KeepAliveSemantics() throws {
        func head(_ s: String) throws -> HTTPRequestHead {
            guard case .head(let h) = try parseRequests(s)[0] else { throw HTTPParseError.malformed("no head") }
            return h
        }
        XCTAssertFalse(try head("GET / HTTP/1.0\r\n\r\n").keepAlive)
        XCTAssertTrue(try head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive)
        XCTAssertTrue(try head("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keepAlive)
        XCTAssertFalse(try head("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n").keepAlive)
        XCTAssertFalse(try head("GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n").isUpgrade, "1.0 Upgrade is ignored")
        // HTTP/1.0 without Host is accepted; with Transfer-Encoding it is not.
        guard case .malformed? = requestError("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") else { return XCTFail() }
    }

    func testSerializedRoundTripAfterAddingForwardedHeaders() throws {
        let s = "POST /api?x=1 HTTP/1.1\r\nHost: demo.share.localhost\r\nContent-Length: 2\r\nX-Custom:   v  \r\n\r\nhi"
        guard case .head(var head) = try parseRequests(s)[0] else { return XCTFail() }
        head.headers.add(name: "X-Forwarded-For", value: "203.0.113.7")
        head.headers.add(name: "X-Forwarded-Proto", value: "http")
        let out = head.serialized()
        XCTAssertEqual(String(decoding: out, as: UTF8.self),
                       "POST /api?x=1 HTTP/1.1\r\nHost: demo.share.localhost\r\nContent-Length: 2\r\nX-Custom: v\r\n"
                       + "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\n\r\n")
        let again = try parseRequests(String(decoding: out, as: UTF8.self) + "hi")
        XCTAssertEqual(again, [.head(head), .body(bytes("hi")), .end])
    }

    func testErrorIsSticky() {
        var p = HTTPRequestParser()
        p.feed(bytes("BAD\r\n\r\n"))
        XCTAssertThrowsError(try p.next())
        p.feed(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertThrowsError(try p.next())
    }

    /// Body bytes read after their head pass straight through (no copy, no `.body` event); the
    /// parser still finds where the body ends and parses the next head.
    func testPassBodyLetsBodyBytesThroughWithoutBuffering() throws {
        var parser = HTTPRequestParser()
        parser.feed(Array("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\n".utf8))
        guard case .head? = try parser.next() else { return XCTFail("no head") }
        XCTAssertNil(try parser.next())
        let read = Array("abcdefGET /next HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        let passed = read.withUnsafeBytes { parser.passBody($0) }
        XCTAssertEqual(passed, 6, "exactly the body")
        XCTAssertEqual(parser.bufferedByteCount, 0, "nothing copied")
        parser.feed(Array(read[passed...]))
        XCTAssertEqual(try parser.next(), .end)
        guard case .head(let next)? = try parser.next() else { return XCTFail("no second head") }
        XCTAssertEqual(next.target, "/next")
        XCTAssertEqual(read.withUnsafeBytes { parser.passBody($0) }, 0, "not inside a body")
    }
}
