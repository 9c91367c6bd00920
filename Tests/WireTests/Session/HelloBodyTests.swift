import XCTest
@testable import Wire

final class HelloBodyTests: XCTestCase {
    func testRoundTripsAndIgnoresUnknownFields() {
        let hello = HelloBody(role: .share, window: 1 << 20)
        XCTAssertEqual(HelloBody.decode(hello.encoded()), hello)
        XCTAssertEqual(HelloBody.decode(Array(#"{"role":"connect","software":"vshare/9","later":true}"#.utf8)),
                       HelloBody(role: .connect, software: "vshare/9"))
    }

    func testUnknownRoleIsNoHello() {
        XCTAssertNil(HelloBody.decode(Array(#"{"role":"mirror","software":"x"}"#.utf8)))
    }
}
