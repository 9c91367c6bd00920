import XCTest
import Wire
@testable import Relay

final class AdminRequestTests: XCTestCase {
    func testFormDecoding() {
        XCTAssertEqual(FormEncoding.decode("token=a%2Bb+c&csrf=x&empty="), ["token": "a+b c", "csrf": "x", "empty": ""])
        XCTAssertEqual(FormEncoding.decode("a=%zz&b=%4"), ["a": "%zz", "b": "%4"])
        XCTAssertEqual(FormEncoding.decode(""), [:])
    }

    func testBearerToken() {
        func bearer(_ value: String) -> String? {
            AdminRequest(head: HTTPRequestHead(method: "GET", target: "/", headers: ["Authorization": value]), client: "c").bearerToken
        }
        XCTAssertEqual(bearer("Bearer abc"), "abc")
        XCTAssertEqual(bearer("bearer  abc "), "abc")
        XCTAssertNil(bearer("Basic abc"))
        XCTAssertNil(bearer("Bearer"))
    }

    func testQueryAndItsEncoding() {
        let request = AdminRequest(head: HTTPRequestHead(method: "GET", target: "/shares/a?status=4xx&path=%2Fa+b"), client: "c")
        XCTAssertEqual(request.query, ["status": "4xx", "path": "/a b"])
        XCTAssertEqual(AdminRequest(head: HTTPRequestHead(method: "GET", target: "/"), client: "c").query, [:])
        let encoded = FormEncoding.encode([("path", "/a b&c=<d>"), ("status", "2xx")])
        XCTAssertEqual(encoded, "path=%2Fa%20b%26c%3D%3Cd%3E&status=2xx")
        XCTAssertEqual(FormEncoding.decode(encoded), ["path": "/a b&c=<d>", "status": "2xx"])
    }
}
