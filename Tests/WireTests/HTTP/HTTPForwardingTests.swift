import Wire
import XCTest


final class HTTPForwardingTests: XCTestCase {
    private struct NoHead: Error {}

    private func head(_ text: String) throws -> HTTPRequestHead {
        try parse(Array(text.utf8))
    }

    private func parse(_ bytes: [UInt8]) throws -> HTTPRequestHead {
        var parser = HTTPRequestParser()
        parser.feed(bytes)
        guard case .head(let head)? = try parser.next() else { throw NoHead() }
        return head
    }

    /// What goes on the wire, parsed back.
    private func forwarded(_ text: String, from client: String) throws -> HTTPRequestHead {
        var out: [UInt8] = []
        try head(text).serializeForwarded(clientIP: client, into: &out)
        return try parse(out)
    }

    func testAuthorizationIsRemovedOnlyWhenAsked() throws {
        let text = "GET / HTTP/1.1\r\nHost: h\r\nauthorization: Basic YTpi\r\nAccept: */*\r\n\r\n"
        var out: [UInt8] = []
        try head(text).serializeForwarded(clientIP: "10.0.0.7", removingAuthorization: true, into: &out)
        let stripped = try parse(out)
        XCTAssertNil(stripped.headers["Authorization"])
        XCTAssertEqual(stripped.headers["Accept"], "*/*")
        XCTAssertEqual(try forwarded(text, from: "10.0.0.7").headers["Authorization"], "Basic YTpi",
                       "a share without --basic-auth gets the header as sent (it may be the machine's own)")
    }

    func testAddsForwardingHeaders() throws {
        let out = try forwarded("GET /a HTTP/1.1\r\nHost: frosty-weasel-0857.share.test:8080\r\nAccept: */*\r\n\r\n", from: "10.0.0.7")
        XCTAssertEqual(out.headers["X-Forwarded-For"], "10.0.0.7")
        XCTAssertEqual(out.headers["X-Forwarded-Proto"], "http")
        XCTAssertEqual(out.headers["X-Forwarded-Host"], "frosty-weasel-0857.share.test:8080")
        XCTAssertEqual(out.headers["Accept"], "*/*")
        XCTAssertEqual(out.method, "GET")
        XCTAssertEqual(out.target, "/a")
    }

    /// What a client says about the path before the relay is not believed: the machine sees the
    /// TCP peer the relay saw, once, and nothing else claiming an address, scheme or host.
    func testClientClaimsAreReplacedNotExtended() throws {
        let out = try forwarded("""
            POST /x HTTP/1.1\r\nHost: a-b-0001.share.test\r\nX-Forwarded-For: 192.0.2.1\r\n\
            x-forwarded-for: 192.0.2.2\r\nX-Forwarded-Proto: https\r\nX-FORWARDED-HOST: evil.example\r\n\
            Forwarded: for=192.0.2.3;proto=https\r\nX-Real-IP: 192.0.2.4\r\nContent-Length: 0\r\n\r\n
            """, from: "10.0.0.7")
        XCTAssertEqual(out.headers.values(named: "X-Forwarded-For"), ["10.0.0.7"])
        XCTAssertEqual(out.headers.values(named: "X-Forwarded-Proto"), ["http"])
        XCTAssertEqual(out.headers.values(named: "X-Forwarded-Host"), ["a-b-0001.share.test"])
        XCTAssertFalse(out.headers.contains(name: "Forwarded"))
        XCTAssertFalse(out.headers.contains(name: "X-Real-IP"))
        XCTAssertEqual(out.headers.count, 5, "Host, Content-Length and the three forwarding fields: \(Array(out.headers))")
    }

    /// RFC 9110 §7.6.1: the fields `Connection` names end at the relay — but never the ones this
    /// message's framing or routing depends on, and never `Upgrade` on an upgrade request.
    func testFieldsNamedInConnectionAreRemoved() throws {
        let out = try forwarded("""
            POST /x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret, content-length, Transfer-Encoding, host\r\n\
            Keep-Alive: timeout=5\r\nx-secret: 1\r\nX-Kept: 2\r\nTransfer-Encoding: chunked\r\n\r\n
            """, from: "10.0.0.7")
        XCTAssertNil(out.headers["Keep-Alive"])
        XCTAssertNil(out.headers["X-Secret"])
        XCTAssertEqual(out.headers["X-Kept"], "2")
        XCTAssertEqual(out.headers["Transfer-Encoding"], "chunked", "framing is never hop-by-hop for the relay")
        XCTAssertEqual(out.headers["Host"], "h")
        XCTAssertEqual(out.headers["Connection"], "keep-alive, X-Secret, content-length, Transfer-Encoding, host",
                       "Connection itself still tells the machine whether to keep the connection")

        let upgrade = try forwarded("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", from: "10.0.0.7")
        XCTAssertEqual(upgrade.headers["Upgrade"], "websocket")
        XCTAssertTrue(upgrade.isUpgrade)
        let notUpgrade = try forwarded("GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", from: "10.0.0.7")
        XCTAssertNil(notUpgrade.headers["Upgrade"], "an HTTP/1.0 request cannot upgrade: its Upgrade is only hop-by-hop")
    }

    func testFieldsThatOnlyLookAlikeAreKept() throws {
        let out = try forwarded("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Fox: 1\r\nX-Forwarded-Hosts: 2\r\n\r\n", from: "10.0.0.7")
        XCTAssertEqual(out.headers["X-Forwarded-Fox"], "1")
        XCTAssertEqual(out.headers["X-Forwarded-Hosts"], "2")
    }
}
