import XCTest
@testable import Wire

final class HTTPHeadTests: XCTestCase {
    func testHeadersAPI() {
        var h: HTTPHeaders = ["Connection": "a", "X-Forwarded-For": "1.1.1.1"]
        h.add(name: "x-forwarded-for", value: "2.2.2.2")
        XCTAssertEqual(h["X-FORWARDED-FOR"], "1.1.1.1")
        XCTAssertEqual(h.values(named: "x-forwarded-for"), ["1.1.1.1", "2.2.2.2"])
        XCTAssertTrue(h.contains(name: "connection"))
        XCTAssertFalse(h.contains(name: "upgrade"))
    }
}
