import XCTest
@testable import Wire

final class HelloBodyTests: XCTestCase {
    func testRoundTripsAndIgnoresUnknownFields() {
        let hello = HelloBody(role: .share, window: 1 << 20)
        XCTAssertEqual(HelloBody.decode(hello.encoded()), hello)
        XCTAssertEqual(HelloBody.decode(Array(#"{"role":"connect","software":"vshare/9","later":true}"#.utf8)),
                       HelloBody(role: .connect, software: "vshare/9"))
    }

    func testResumeFieldsRoundTripAndAreOptional() {
        let id = String(repeating: "ab", count: 32)
        let peer = HelloBody(role: .connect, machineAddress: "172.16.0.2", resume: id)
        XCTAssertEqual(HelloBody.decode(peer.encoded()), peer)
        let agent = HelloBody(role: .share, resume: id, resumed: true)
        XCTAssertEqual(HelloBody.decode(agent.encoded())?.resumed, true)
        // An older peer's HELLO has neither field.
        let old = HelloBody.decode(Array(#"{"role":"connect","software":"vshare/0.0.9","machineAddress":"172.16.0.2"}"#.utf8))
        XCTAssertNil(old?.resume)
        XCTAssertNil(old?.resumed)
    }

    func testUnknownRoleIsNoHello() {
        XCTAssertNil(HelloBody.decode(Array(#"{"role":"mirror","software":"x"}"#.utf8)))
    }
}
