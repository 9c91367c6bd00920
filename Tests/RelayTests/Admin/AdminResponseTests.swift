import XCTest
@testable import Relay

final class AdminResponseTests: XCTestCase {
    func testEveryResponseCarriesTheSecurityHeaders() {
        let text = String(decoding: AdminResponse.redirect("/login").serialized(), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 303 See Other\r\n"))
        for header in ["Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                       "X-Content-Type-Options: nosniff", "Referrer-Policy: no-referrer", "Cache-Control: no-store",
                       "Connection: close", "Location: /login", "Content-Length: 11"] {
            XCTAssertTrue(text.contains("\r\n\(header)\r\n"), header)
        }
        XCTAssertTrue(text.hasSuffix("\r\n\r\nSee /login\n"))
    }

    func testHeadLeavesTheBodyOut() {
        let response = AdminResponse.html(200, "<p>hi</p>")
        let text = String(decoding: response.serialized(includeBody: false), as: UTF8.self)
        XCTAssertTrue(text.contains("Content-Length: 9\r\n"))
        XCTAssertTrue(text.hasSuffix("\r\n\r\n"))
    }
}
