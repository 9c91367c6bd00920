import Wire
import XCTest
@testable import Relay

final class ForwardedHeadersTests: XCTestCase {
    private struct NoHead: Error {}

    private func head(_ text: String) throws -> HTTPRequestHead {
        var parser = HTTPRequestParser()
        parser.feed(Array(text.utf8))
        guard case .head(let head)? = try parser.next() else { throw NoHead() }
        return head
    }

    func testAddsForwardingHeaders() throws {
        let out = try head("GET /a HTTP/1.1\r\nHost: frosty-weasel-0857.share.test:8080\r\n\r\n").forwarded(from: "10.0.0.7")
        XCTAssertEqual(out.headers["X-Forwarded-For"], "10.0.0.7")
        XCTAssertEqual(out.headers["X-Forwarded-Proto"], "http")
        XCTAssertEqual(out.headers["X-Forwarded-Host"], "frosty-weasel-0857.share.test:8080")
        XCTAssertEqual(out.method, "GET")
        XCTAssertEqual(out.target, "/a")
    }

    func testKeepsChainButOverridesClaims() throws {
        let out = try head("""
            POST /x HTTP/1.1\r\nHost: a-b-0001.share.test\r\nX-Forwarded-For: 192.0.2.1\r\n\
            x-forwarded-for: 192.0.2.2\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n\r\n
            """).forwarded(from: "10.0.0.7")
        XCTAssertEqual(out.headers.values(named: "X-Forwarded-For"), ["192.0.2.1, 192.0.2.2, 10.0.0.7"])
        XCTAssertEqual(out.headers.values(named: "X-Forwarded-Proto"), ["http"])
        XCTAssertEqual(out.headers.values(named: "X-Forwarded-Host"), ["a-b-0001.share.test"])
        // What goes on the wire parses back to the same head.
        var parser = HTTPRequestParser()
        parser.feed(out.serialized())
        XCTAssertEqual(try parser.next(), .head(out))
    }
}
