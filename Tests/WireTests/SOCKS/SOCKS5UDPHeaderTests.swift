import XCTest
@testable import Wire

final class SOCKS5UDPHeaderTests: XCTestCase {
    private let headers = [
        SOCKS5UDPHeader(address: .ipv4(IPv4Address(172, 16, 0, 2)), port: 53),
        SOCKS5UDPHeader(address: .domain("myshare"), port: 5353),
        SOCKS5UDPHeader(address: .ipv6(Array(0..<16)), port: 1),
    ]

    func testRoundTripForEveryAddressType() throws {
        let payload: [UInt8] = [0xDE, 0xAD, 0xBE, 0xEF]
        for header in headers {
            var datagram: [UInt8] = []
            header.encode(into: &datagram)
            XCTAssertEqual(datagram.count, header.encodedLength)
            datagram += payload
            let (parsed, offset) = try SOCKS5UDPHeader.parse(datagram)
            XCTAssertEqual(parsed, header)
            XCTAssertEqual(offset, header.encodedLength)
            XCTAssertEqual(Array(datagram[offset...]), payload)
        }
    }

    func testEmptyPayloadIsFine() throws {
        var datagram: [UInt8] = []
        headers[0].encode(into: &datagram)
        XCTAssertEqual(try SOCKS5UDPHeader.parse(datagram).dataOffset, datagram.count)
    }

    private func expectError(_ datagram: [UInt8], _ expected: SOCKS5UDPError,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SOCKS5UDPHeader.parse(datagram), file: file, line: line) { error in
            XCTAssertEqual(error as? SOCKS5UDPError, expected, file: file, line: line)
        }
    }

    func testFragmentsAreDropped() {
        expectError([0, 0, 1, 1, 172, 16, 0, 2, 0, 53, 9], .fragmented(1))
        XCTAssertTrue(SOCKS5UDPError.fragmented(1).description.contains("not supported"))
    }

    func testEveryTruncationIsAnError() {
        var datagram: [UInt8] = []
        headers[1].encode(into: &datagram)
        for cut in 0..<datagram.count {
            expectError(Array(datagram[..<cut]), .truncated)
        }
    }

    func testBadAddressFields() {
        expectError([0, 0, 0, 2, 1, 2, 3, 4, 0, 1], .unsupportedAddressType(2))
        expectError([0, 0, 0, 3, 0, 0, 1], .invalidDomain)
    }
}
