import XCTest
@testable import Wire

struct ResponseCollector {
    var parser = HTTPResponseParser()
    var events: [HTTPResponseEvent] = []
    /// Every raw byte handed out (head raw, body, upgraded), in order.
    var forwarded: [UInt8] = []

    init(expecting methods: [String]) {
        for m in methods { parser.expectResponse(toMethod: m) }
    }

    mutating func record(_ e: HTTPResponseEvent) {
        switch e {
        case .head(_, let raw): forwarded += raw
        case .body(let b), .upgraded(let b): forwarded += b
        case .end: break
        }
        switch (events.last, e) {
        case (.body(let a)?, .body(let b)): events[events.count - 1] = .body(a + b)
        case (.upgraded(let a)?, .upgraded(let b)): events[events.count - 1] = .upgraded(a + b)
        default: events.append(e)
        }
    }

    mutating func feed(_ bytes: [UInt8], chunk: Int? = nil) throws(HTTPParseError) {
        let step = chunk ?? max(bytes.count, 1)
        var i = 0
        while i < bytes.count {
            parser.feed(Array(bytes[i..<min(i + step, bytes.count)]))
            while let e = try parser.next() { record(e) }
            i += step
        }
    }

    mutating func eof() throws(HTTPParseError) {
        if let e = try parser.finishAtEOF() { record(e) }
        while let e = try parser.next() { record(e) }
    }

    var statuses: [Int] { events.compactMap { if case .head(let h, _) = $0 { return h.status } else { return nil } } }
}

final class HTTPResponseParserTests: XCTestCase {
    func testContentLength() throws {
        let s = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"
        for chunk in [1, 3, 1000] {
            var c = ResponseCollector(expecting: ["GET"])
            try c.feed(bytes(s), chunk: chunk)
            XCTAssertEqual(c.events.count, 3)
            guard case .head(let head, let raw) = c.events[0] else { return XCTFail() }
            XCTAssertEqual(head.status, 200)
            XCTAssertEqual(head.reason, "OK")
            XCTAssertEqual(head.headers["content-length"], "11")
            XCTAssertTrue(head.keepAlive)
            XCTAssertEqual(raw, bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n"))
            XCTAssertEqual(c.events[1], .body(bytes("hello world")))
            XCTAssertEqual(c.events[2], .end)
            XCTAssertEqual(c.forwarded, bytes(s))
            XCTAssertEqual(c.parser.outstandingResponses, 0)
            XCTAssertTrue(c.parser.isIdle)
        }
    }

    func testChunked() throws {
        let body = "6;x=y\r\nchunk1\r\n1\r\n!\r\n0\r\nTrailer: yes\r\n\r\n"
        let s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 999\r\n\r\n" + body
        for chunk in [1, 2, 7, 1000] {
            var c = ResponseCollector(expecting: ["GET", "GET"])
            try c.feed(bytes(s + "HTTP/1.1 204 No Content\r\n\r\n"), chunk: chunk)
            XCTAssertEqual(c.statuses, [200, 204])
            XCTAssertEqual(c.events[1], .body(bytes(body)), "TE wins over Content-Length in responses")
            XCTAssertEqual(c.events[2], .end)
            XCTAssertEqual(c.events.last, .end)
        }
    }

    func testUntilCloseWithFinishAtEOF() throws {
        var c = ResponseCollector(expecting: ["GET"])
        try c.feed(bytes("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nsome "))
        try c.feed(bytes("bytes"))
        XCTAssertEqual(c.parser.framing, .untilClose)
        XCTAssertEqual(c.events.count, 2, "no .end before EOF")
        try c.eof()
        XCTAssertEqual(c.events.last, .end)
        XCTAssertEqual(c.events[1], .body(bytes("some bytes")))
    }

    func testEOFMidMessageThrows() throws {
        var c = ResponseCollector(expecting: ["GET"])
        try c.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))
        XCTAssertThrowsError(try c.eof()) { XCTAssertEqual($0 as? HTTPParseError, .unexpectedEOF) }

        var d = ResponseCollector(expecting: ["GET"])
        try d.feed(bytes("HTTP/1.1 200 OK\r\nConte"))
        XCTAssertThrowsError(try d.eof()) { XCTAssertEqual($0 as? HTTPParseError, .unexpectedEOF) }

        var e = ResponseCollector(expecting: ["GET"])
        try e.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"))
        XCTAssertNoThrow(try e.eof(), "EOF between responses is fine")
    }

    func testHeadResponseHasNoBody() throws {
        var c = ResponseCollector(expecting: ["HEAD", "GET"])
        try c.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        XCTAssertEqual(c.statuses, [200, 200])
        XCTAssertEqual(c.events.count, 5)
        XCTAssertEqual(c.events[1], .end)
        XCTAssertEqual(c.events[3], .body(bytes("ok")))
    }

    func test204And304HaveNoBody() throws {
        var c = ResponseCollector(expecting: ["DELETE", "GET", "GET"])
        try c.feed(bytes("HTTP/1.1 204 No Content\r\n\r\n"
                         + "HTTP/1.1 304 Not Modified\r\nContent-Length: 500\r\nETag: \"x\"\r\n\r\n"
                         + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
        XCTAssertEqual(c.statuses, [204, 304, 200])
        XCTAssertEqual(c.events.filter { $0 == .end }.count, 3)
        XCTAssertFalse(c.events.contains { if case .body = $0 { return true } else { return false } })
    }

    func test100ContinueThen200() throws {
        var c = ResponseCollector(expecting: ["POST"])
        try c.feed(bytes("HTTP/1.1 100 Continue\r\n\r\n"), chunk: 1)
        XCTAssertEqual(c.statuses, [100])
        XCTAssertEqual(c.events.count, 1, "no .end after an interim response")
        XCTAssertEqual(c.parser.outstandingResponses, 1)
        try c.feed(bytes("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"))
        XCTAssertEqual(c.statuses, [100, 103, 201])
        XCTAssertEqual(Array(c.events.suffix(2)), [.body(bytes("ok")), .end])
        XCTAssertEqual(c.parser.outstandingResponses, 0)
    }

    func test101Upgraded() throws {
        let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        let frame: [UInt8] = [0x81, 0x02, 0x68, 0x69]
        var c = ResponseCollector(expecting: ["GET"])
        try c.feed(bytes(head) + frame)
        XCTAssertEqual(c.statuses, [101])
        XCTAssertEqual(Array(c.events.dropFirst()), [.end, .upgraded(frame)])
        XCTAssertTrue(c.parser.isUpgraded)
        try c.feed(bytes("HTTP/1.1 200 OK\r\n\r\n"))
        XCTAssertEqual(c.events.last, .upgraded(frame + bytes("HTTP/1.1 200 OK\r\n\r\n")))
        XCTAssertNoThrow(try c.eof())
    }

    func testConnect2xxUpgradesButErrorDoesNot() throws {
        var c = ResponseCollector(expecting: ["CONNECT"])
        try c.feed(bytes("HTTP/1.1 200 Connection established\r\n\r\n\u{16}\u{03}"))
        XCTAssertEqual(Array(c.events.dropFirst()), [.end, .upgraded([0x16, 0x03])])

        var d = ResponseCollector(expecting: ["CONNECT"])
        try d.feed(bytes("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"))
        XCTAssertEqual(Array(d.events.dropFirst()), [.body(bytes("no")), .end])
        XCTAssertFalse(d.parser.isUpgraded)
    }

    func testPipelinedResponsesMatchExpectOrder() throws {
        let s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"                 // HEAD: no body despite CL
            + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
            + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\n\r\n"
        for chunk in [1, 4, 10_000] {
            var c = ResponseCollector(expecting: ["HEAD", "GET", "POST", "GET"])
            try c.feed(bytes(s), chunk: chunk)
            XCTAssertEqual(c.statuses, [200, 200, 100, 200, 304])
            XCTAssertEqual(c.events.filter { $0 == .end }.count, 4)
            XCTAssertEqual(c.forwarded, bytes(s), "raw events reproduce the input exactly")
            XCTAssertEqual(c.parser.outstandingResponses, 0)
        }
    }

    func testUnsolicitedResponse() throws {
        var p = HTTPResponseParser()
        p.feed(bytes("HTTP/1.1 200 OK\r\n\r\n"))
        XCTAssertThrowsError(try p.next()) { XCTAssertEqual($0 as? HTTPParseError, .unsolicitedResponse) }
    }

    func testMalformedResponses() {
        for s in ["HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "HTTX/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
                  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"] {
            var c = ResponseCollector(expecting: ["GET"])
            XCTAssertThrowsError(try c.feed(bytes(s)), s.debugDescription)
        }
    }

    func testStatusLineWithoutReasonAndBareLF() throws {
        var c = ResponseCollector(expecting: ["GET", "GET"])
        try c.feed(bytes("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 \nContent-Length: 0\n\n"))
        XCTAssertEqual(c.statuses, [200, 404])
    }

    func testHeadTooLarge() {
        var p = HTTPResponseParser(maxHeadBytes: 256)
        p.expectResponse(toMethod: "GET")
        p.feed(bytes("HTTP/1.1 200 OK\r\nX: " + String(repeating: "y", count: 300)))
        XCTAssertThrowsError(try p.next()) { XCTAssertEqual($0 as? HTTPParseError, .headTooLarge) }
    }

    func testLargeBodyIsSlicedInBulk() throws {
        let body = [UInt8](repeating: 0x61, count: 1_000_000)
        var p = HTTPResponseParser()
        p.expectResponse(toMethod: "GET")
        p.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"))
        guard case .head? = try p.next() else { return XCTFail() }
        var total = 0, events = 0
        var i = 0
        while i < body.count {
            p.feed(Array(body[i..<min(i + 65536, body.count)]))
            while let e = try p.next() {
                if case .body(let b) = e { total += b.count; events += 1 }
            }
            i += 65536
        }
        XCTAssertEqual(total, body.count)
        XCTAssertEqual(events, 16, "one body event per fed chunk")
        XCTAssertTrue(p.isIdle)
    }

    func testChunkedSplitAtEveryOffsetThenNextResponse() throws {
        let s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + "a;ext=\"q\"\r\n0123456789\r\n0\r\nT: v\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nZ"
        let all = bytes(s)
        for split in 0...all.count {
            var c = ResponseCollector(expecting: ["GET", "GET"])
            try c.feed(Array(all[0..<split]))
            try c.feed(Array(all[split...]))
            XCTAssertEqual(c.statuses, [200, 200], "split \(split)")
            XCTAssertEqual(c.events.count, 6, "split \(split)")
            XCTAssertEqual(c.events[4], .body(bytes("Z")))
            XCTAssertEqual(c.forwarded, all)
        }
    }
}

/// Observing mode: what the relay uses to log responses it forwards without copying them.
final class HTTPResponseObservingTests: XCTestCase {
    func testObservingCountsBytesAndKeepsOnlyFramingFields() throws {
        var parser = HTTPResponseParser(observing: true)
        parser.expectResponse(toMethod: "GET")
        parser.expectResponse(toMethod: "HEAD")
        let first = Array("HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\nX-Long: \(String(repeating: "y", count: 100))\r\n\r\nhello".utf8)
        let second = Array("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n".utf8)
        parser.feed(first + second)
        var events: [HTTPResponseEvent] = []
        while let event = try parser.next() { events.append(event) }
        guard case .head(let head, let raw) = events.first else { return XCTFail("no head: \(events)") }
        XCTAssertEqual(head.status, 200)
        XCTAssertTrue(raw.isEmpty, "observing mode hands out no bytes")
        XCTAssertEqual(head.headers["Content-Length"], "5")
        XCTAssertNil(head.headers["Server"], "only framing fields are kept")
        XCTAssertEqual(events.filter { $0 == .end }.count, 2, "HEAD response has no body despite Content-Length")
        XCTAssertEqual(parser.consumedBytes, first.count + second.count)
    }

    /// A body fed after its head is counted on arrival (no copy, no `.body` event), also when it
    /// arrives in pieces and the next response follows in the same feed.
    func testObservingCountsBodiesAsTheyAreFed() throws {
        var parser = HTTPResponseParser(observing: true)
        parser.expectResponse(toMethod: "GET")
        parser.expectResponse(toMethod: "GET")
        let head = Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".utf8)
        let second = Array("HTTP/1.1 204 No Content\r\n\r\n".utf8)
        var events: [HTTPResponseEvent] = []
        parser.feed(head)
        while let event = try parser.next() { events.append(event) }
        parser.feed(Array("01234".utf8))
        while let event = try parser.next() { events.append(event) }
        parser.feed(Array("56789".utf8) + second)
        while let event = try parser.next() { events.append(event) }
        XCTAssertEqual(events.filter { $0 == .end }.count, 2, "\(events)")
        XCTAssertFalse(events.contains { if case .body = $0 { true } else { false } }, "\(events)")
        XCTAssertEqual(parser.consumedBytes, head.count + 10 + second.count)
        XCTAssertTrue(parser.isIdle)
    }

    func testObservingStillRejectsMalformedFields() {
        var parser = HTTPResponseParser(observing: true)
        parser.expectResponse(toMethod: "GET")
        parser.feed(Array("HTTP/1.1 200 OK\r\nBad Header\r\n\r\n".utf8))
        XCTAssertThrowsError(try parser.next())
    }
}
