import XCTest
@testable import Wire

final class SOCKS5ReplyTests: XCTestCase {
    func testReplyAndMethodSelectionEncoding() {
        XCTAssertEqual(SOCKS5MethodSelection.encoded(SOCKS5MethodSelection.noAuthentication), [5, 0])
        XCTAssertEqual(SOCKS5Reply(.succeeded, bound: .ipv4(IPv4Address(127, 0, 0, 1)), port: 1080).encoded(),
                       [5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38])
        XCTAssertEqual(SOCKS5Reply(.notAllowed).encoded(), [5, 2, 0, 1, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(SOCKS5Reply(.succeeded, bound: .domain("ab"), port: 1).encoded(), [5, 0, 0, 3, 2, 0x61, 0x62, 0, 1])
        XCTAssertEqual(SOCKS5Reply(.succeeded, bound: .ipv6([UInt8](repeating: 0, count: 15) + [1]), port: 2).encoded(),
                       [5, 0, 0, 4] + [UInt8](repeating: 0, count: 15) + [1, 0, 2])
    }
}
