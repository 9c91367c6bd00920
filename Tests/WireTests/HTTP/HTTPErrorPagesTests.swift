import XCTest
@testable import Wire

final class HTTPErrorPagesTests: XCTestCase {
    func testErrorPage() throws {
        let page = HTTPErrorPage.response(status: 502, title: "Bad <Gateway>", message: "share \"x\" is offline", close: true)
        var r = HTTPResponseParser()
        r.expectResponse(toMethod: "GET")
        r.feed(page)
        guard case .head(let head, _)? = try r.next() else { return XCTFail() }
        XCTAssertEqual(head.status, 502)
        XCTAssertEqual(head.reason, "Bad Gateway")
        XCTAssertEqual(head.headers["content-type"], "text/html; charset=utf-8")
        XCTAssertEqual(head.headers["connection"], "close")
        guard case .body(let body)? = try r.next() else { return XCTFail() }
        XCTAssertEqual(Int(head.headers["content-length"]!), body.count)
        let html = String(decoding: body, as: UTF8.self)
        XCTAssertTrue(html.contains("Bad &lt;Gateway&gt;"))
        XCTAssertTrue(html.contains("share &quot;x&quot; is offline"))
        XCTAssertEqual(try r.next(), .end)
    }

    func testChallengeHeaderComesBeforeTheBody() throws {
        var challenge = HTTPHeaders()
        challenge.add(name: "WWW-Authenticate", value: "Basic realm=\"vshare x\"")
        let page = HTTPErrorPage.response(status: 401, title: "Unauthorized", message: "m", close: true, extraHeaders: challenge)
        var r = HTTPResponseParser()
        r.expectResponse(toMethod: "GET")
        r.feed(page)
        guard case .head(let head, _)? = try r.next() else { return XCTFail() }
        XCTAssertEqual(head.reason, "Unauthorized")
        XCTAssertEqual(head.headers["www-authenticate"], "Basic realm=\"vshare x\"")
    }
}
