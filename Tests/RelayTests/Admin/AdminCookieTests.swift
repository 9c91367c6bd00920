import XCTest
@testable import Relay

final class AdminCookieTests: XCTestCase {
    func testAttributesOverPlainHTTP() {
        XCTAssertEqual(AdminCookie.setting("abc", secure: false), "vshare_session=abc; HttpOnly; SameSite=Strict; Path=/")
    }

    func testSecureOverHTTPS() {
        XCTAssertEqual(AdminCookie.setting("abc", secure: true), "vshare_session=abc; HttpOnly; SameSite=Strict; Path=/; Secure")
        XCTAssertEqual(AdminCookie.clearing(secure: true), "vshare_session=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/; Secure")
    }

    func testSessionIDFromCookieHeader() {
        XCTAssertEqual(AdminCookie.sessionID(fromCookieHeader: "vshare_session=abc"), "abc")
        XCTAssertEqual(AdminCookie.sessionID(fromCookieHeader: "a=1; vshare_session=abc; b=2"), "abc")
        XCTAssertNil(AdminCookie.sessionID(fromCookieHeader: "xvshare_session=abc"))
        XCTAssertNil(AdminCookie.sessionID(fromCookieHeader: "vshare_session="))
        XCTAssertNil(AdminCookie.sessionID(fromCookieHeader: nil))
    }
}
