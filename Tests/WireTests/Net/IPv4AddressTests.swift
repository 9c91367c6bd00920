import XCTest
@testable import Wire

final class IPv4AddressTests: XCTestCase {
    func testParseAndFormat() {
        XCTAssertEqual(IPv4Address("172.16.0.2"), IPv4Address(172, 16, 0, 2))
        XCTAssertEqual(IPv4Address(172, 16, 0, 2).value, 0xAC10_0002)
        XCTAssertEqual(IPv4Address(0xC0A8_0101).description, "192.168.1.1")
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d", " 1.2.3.4", "1.2.3.-4"] {
            XCTAssertNil(IPv4Address(bad), bad)
        }
    }

    func testSlash24Helpers() {
        let a = IPv4Address(10, 1, 2, 3)
        XCTAssertEqual(a.lastOctet, 3)
        XCTAssertEqual(a.withLastOctet(254), IPv4Address(10, 1, 2, 254))
    }
}
