import Wire
import XCTest

final class IPNetworkTests: XCTestCase {
    private func address(_ text: String) throws -> IPAddress { try XCTUnwrap(IPAddress(text)) }

    func testIPv4Networks() throws {
        let network = try IPNetwork(parsing: "10.1.2.3/8")
        XCTAssertEqual(network.description, "10.0.0.0/8", "host bits are cleared")
        XCTAssertTrue(network.contains(try address("10.255.0.1")))
        XCTAssertFalse(network.contains(try address("11.0.0.1")))
        XCTAssertTrue(network.contains(try address("::ffff:10.9.9.9")), "a dual-stack socket's mapped peer")
        XCTAssertFalse(network.contains(try address("::a09:909")), "IPv4-compatible is not IPv4-mapped")
    }

    func testBareAddressIsOneHost() throws {
        let v4 = try IPNetwork(parsing: " 192.0.2.7 ")
        XCTAssertEqual(v4.prefixLength, 32)
        XCTAssertTrue(v4.contains(try address("192.0.2.7")))
        XCTAssertFalse(v4.contains(try address("192.0.2.8")))
        let v6 = try IPNetwork(parsing: "2001:db8::1")
        XCTAssertEqual(v6.prefixLength, 128)
        XCTAssertFalse(v6.contains(try address("2001:db8::2")))
    }

    func testIPv6Networks() throws {
        let network = try IPNetwork(parsing: "2001:db8:abcd::/36")
        XCTAssertEqual(network.description, "2001:db8:a000::/36")
        XCTAssertTrue(network.contains(try address("2001:db8:afff::1")))
        XCTAssertFalse(network.contains(try address("2001:db8:b000::1")))
        XCTAssertFalse(network.contains(try address("10.0.0.1")))
        let low = try IPNetwork(parsing: "::1:0:0/96")
        XCTAssertTrue(low.contains(try address("::1:0:5")))
    }

    func testZeroPrefixesMatchTheirWholeFamily() throws {
        XCTAssertTrue(try IPNetwork(parsing: "0.0.0.0/0").contains(try address("203.0.113.9")))
        XCTAssertFalse(try IPNetwork(parsing: "0.0.0.0/0").contains(try address("2001:db8::1")))
        XCTAssertTrue(try IPNetwork(parsing: "::/0").contains(try address("2001:db8::1")))
    }

    func testErrorsSayWhatIsWrong() {
        XCTAssertThrowsError(try IPNetwork(parsing: "10.0.0.0/33")) { XCTAssertEqual($0 as? IPNetwork.ParseError, .badPrefix("10.0.0.0/33")) }
        XCTAssertThrowsError(try IPNetwork(parsing: "::/129")) { XCTAssertEqual($0 as? IPNetwork.ParseError, .badPrefix("::/129")) }
        for text in ["10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/08x", "10.0.0.0/8/8"] {
            XCTAssertThrowsError(try IPNetwork(parsing: text), text)
        }
        XCTAssertThrowsError(try IPNetwork(parsing: "example.com")) {
            XCTAssertEqual($0 as? IPNetwork.ParseError, .notAnAddress("example.com"))
            XCTAssertTrue("\($0)".contains("10.0.0.0/8"), "the message shows the form to write")
        }
    }

    func testLists() throws {
        XCTAssertEqual(try IPNetwork.parseList("10.0.0.0/8, fd00::/8").map(\.description), ["10.0.0.0/8", "fd00::/8"])
        XCTAssertThrowsError(try IPNetwork.parseList("10.0.0.0/8,,1.2.3.4"))
        XCTAssertThrowsError(try IPNetwork.parseList(""))
    }
}
