import XCTest
@testable import Wire

final class SOCKS5AddressTests: XCTestCase {
    func testAddressDescriptions() {
        XCTAssertEqual(SOCKS5Address.ipv4(IPv4Address(172, 16, 0, 2)).description, "172.16.0.2")
        XCTAssertEqual(SOCKS5Address.domain("myshare").description, "myshare")
        XCTAssertEqual(SOCKS5Address.ipv6([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]).description,
                       "2001:db8:0:0:0:0:0:1")
    }
}
