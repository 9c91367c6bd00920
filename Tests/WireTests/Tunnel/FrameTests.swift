import XCTest
@testable import Wire

final class FrameTests: XCTestCase {
    func testTypedAccessors() {
        XCTAssertEqual(Frame.hello(version: 3, body: [9]).helloFields?.version, 3)
        XCTAssertEqual(Frame.hello(version: 3, body: [9]).helloFields?.body, [9])
        XCTAssertEqual(Frame.window(stream: 1, increment: 77).payload, [0, 0, 0, 77])
        XCTAssertEqual(Frame.reset(stream: 1, code: .timeout, reason: "slow").codeAndReason?.code, 5)
        XCTAssertEqual(Frame.goaway(code: 1, reason: "bye").codeAndReason?.reason, "bye")
        XCTAssertEqual(Frame.ping(.max).pingToken, .max)
        XCTAssertTrue(Frame.data(stream: 1, [], fin: true).isFin)
        XCTAssertTrue(Frame.ping(1, ack: true).isAck)
    }
}
