import XCTest
@testable import Wire

final class DataPreambleTests: XCTestCase {
    private let ticket = (0..<32).map { UInt8($0 * 7 & 0xff) }

    func testRoundTripAndLayout() throws {
        let bytes = DataPreamble(side: .agent, ticket: ticket).encoded()
        XCTAssertEqual(bytes.count, DataPreamble.size)
        XCTAssertEqual(Array(bytes[0..<4]), Array("VSHD".utf8))
        XCTAssertEqual(bytes.bigEndianUInt16(at: 4), TunnelProtocol.version)
        XCTAssertEqual(bytes[6], 2)
        XCTAssertEqual(try DataPreamble.parse(bytes), DataPreamble(side: .agent, ticket: ticket))
    }

    /// The control port routes on the first byte: it must never be a TLS record type.
    func testMagicCannotBeATLSRecord() {
        XCTAssertFalse((0x14...0x18).contains(DataPreamble.magic[0]))
    }

    func testRejectsWhatIsNotAPreamble() {
        var bytes = DataPreamble(side: .peer, ticket: ticket).encoded()
        XCTAssertThrowsError(try DataPreamble.parse(bytes.dropLast())) { XCTAssertEqual($0 as? DataPreamble.ParseError, .badTicket) }
        bytes[0] = 0x16
        XCTAssertThrowsError(try DataPreamble.parse(bytes)) { XCTAssertEqual($0 as? DataPreamble.ParseError, .badMagic) }
        bytes = DataPreamble(side: .peer, ticket: ticket).encoded()
        bytes[5] = bytes[5] &+ 1
        XCTAssertThrowsError(try DataPreamble.parse(bytes)) {
            XCTAssertEqual($0 as? DataPreamble.ParseError, .version(TunnelProtocol.version &+ 1))
        }
        bytes = DataPreamble(side: .peer, ticket: ticket).encoded()
        bytes[6] = 3
        XCTAssertThrowsError(try DataPreamble.parse(bytes)) { XCTAssertEqual($0 as? DataPreamble.ParseError, .badSide(3)) }
    }
}

final class PairingMessageTests: XCTestCase {
    private func roundTrip(_ message: PairingMessage) throws -> PairingMessage {
        let bytes = message.encoded()
        let header = bytes.prefix(PairingMessage.headerSize)
        let length = try PairingMessage.bodyLength(header: header)
        XCTAssertEqual(length, bytes.count - PairingMessage.headerSize)
        return try PairingMessage.decode(header: header, body: Array(bytes.dropFirst(PairingMessage.headerSize)))
    }

    func testRoundTrips() throws {
        let point = [UInt8](repeating: 4, count: 65)
        XCTAssertEqual(try roundTrip(.share(point)), .share(point))
        XCTAssertEqual(try roundTrip(.confirm([1, 2, 3])), .confirm([1, 2, 3]))
        XCTAssertEqual(try roundTrip(.refused("try again in 10 min")), .refused("try again in 10 min"))
        XCTAssertEqual(PairingMessage.share(point).encoded().prefix(3), [1, 0, 65])
    }

    func testHeaderChecksTypeAndBound() {
        XCTAssertThrowsError(try PairingMessage.bodyLength(header: [0, 0, 1])) {
            XCTAssertEqual($0 as? PairingMessage.ParseError, .unknownType(0))
        }
        XCTAssertThrowsError(try PairingMessage.bodyLength(header: [4, 0, 1]))
        XCTAssertThrowsError(try PairingMessage.bodyLength(header: [1, 0xff, 0xff])) {
            XCTAssertEqual($0 as? PairingMessage.ParseError, .tooLong(65535))
        }
        XCTAssertEqual(try PairingMessage.bodyLength(header: [2, 0x04, 0x00]), 1024)
    }

    func testARefusalIsCutToTheBound() {
        let long = String(repeating: "x", count: 5000)
        XCTAssertEqual(PairingMessage.refused(long).encoded().count, PairingMessage.headerSize + PairingMessage.maxBody)
    }
}

final class HexTests: XCTestCase {
    func testRoundTripAndRejects() {
        let bytes: [UInt8] = [0, 1, 0xab, 0xff, 0x10]
        XCTAssertEqual(Hex.encode(bytes), "0001abff10")
        XCTAssertEqual(Hex.decode("0001abff10"), bytes)
        XCTAssertEqual(Hex.decode("0001ABFF10"), bytes)
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
        XCTAssertEqual(Hex.decode(""), [])
    }
}
