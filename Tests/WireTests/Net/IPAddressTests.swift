import Wire
import XCTest

final class IPAddressTests: XCTestCase {
    func testIPv4IsHeldAsItsMappedForm() throws {
        let address = try XCTUnwrap(IPAddress("192.0.2.7"))
        XCTAssertTrue(address.isIPv4)
        XCTAssertEqual(address, IPAddress("::ffff:192.0.2.7"))
        XCTAssertEqual(address.description, "192.0.2.7")
    }

    func testIPv6Forms() throws {
        XCTAssertEqual(IPAddress("::"), IPAddress(high: 0, low: 0))
        XCTAssertEqual(IPAddress("::1"), IPAddress(high: 0, low: 1))
        XCTAssertEqual(IPAddress("2001:db8::"), IPAddress(high: 0x2001_0db8_0000_0000, low: 0))
        XCTAssertEqual(IPAddress("2001:DB8:0:0:0:0:0:1"), IPAddress("2001:db8::1"))
        XCTAssertEqual(IPAddress("fe80::1:2"), IPAddress(high: 0xfe80_0000_0000_0000, low: 0x0001_0002))
        XCTAssertEqual(IPAddress("0:0:0:0:0:ffff:10.0.0.1"), IPAddress("10.0.0.1"))
    }

    func testDescriptionIsRFC5952() throws {
        XCTAssertEqual(IPAddress("2001:0db8:0:0:1:0:0:1")?.description, "2001:db8::1:0:0:1")
        XCTAssertEqual(IPAddress("::1")?.description, "::1")
        XCTAssertEqual(IPAddress("::")?.description, "::")
        XCTAssertEqual(IPAddress("2001:db8:1:1:1:1:1:1")?.description, "2001:db8:1:1:1:1:1:1")
        XCTAssertEqual(IPAddress("2001:db8:0:1:1:1:1:1")?.description, "2001:db8:0:1:1:1:1:1", "a single zero word stays")
    }

    func testRejectsMalformedText() {
        for text in ["", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1",
                     "1.2.3", "1.2.3.256", "01.2.3.4", "::1.2.3", "1.2.3.4::", "fe80::1%eth0", " ::1", "1:2:3:4:5:6:7::8"] {
            XCTAssertNil(IPAddress(text), text)
        }
    }
}
