import XCTest
@testable import Wire

final class FrameEncoderTests: XCTestCase {
    func testHeaderLayoutIsBigEndian() {
        let bytes = FrameEncoder.encode(Frame(type: .data, flags: 0x01, stream: 0x0A0B_0C0D, payload: [0xEE, 0xFF]))
        XCTAssertEqual(bytes, [0x00, 0x00, 0x02, 0x03, 0x01, 0x0A, 0x0B, 0x0C, 0x0D, 0xEE, 0xFF])
        let hello = FrameEncoder.encode(.hello(body: [0x7B]))
        XCTAssertEqual(hello, [0, 0, 7, 0, 0, 0, 0, 0, 0, 0x56, 0x53, 0x48, 0x52, 0, 2, 0x7B])   // version 2
    }
}
