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
}
