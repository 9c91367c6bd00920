import TestSupport
import Wire
import XCTest

final class UDPHeaderTests: XCTestCase {
    private let peer = KernelPackets.peer
    private let machine = KernelPackets.machine

    func testKernelDatagramReEmitsByteForByte() throws {
        let original = Array(KernelPackets.udp[20...])
        let h = try parse(original)
        XCTAssertEqual(h.sourcePort, 40000)
        XCTAssertEqual(h.destinationPort, 5353)
        XCTAssertEqual(Array(original[h.payloadRange]), Array("udp payload!".utf8))
        var out = original
        for i in 0..<8 { out[i] = 0 }
        try out.withUnsafeMutableBytes { p in try h.emit(into: p, source: peer, destination: machine) }
        XCTAssertEqual(out, original)
    }

    /// "No checksum" (a zero field) parses as such and re-emits as zero; otherwise emit fills it.
    func testChecksumPresenceRoundTrips() throws {
        for hasChecksum in [true, false] {
            var h = UDPHeader(sourcePort: 9, destinationPort: 10, payloadLength: 3)
            h.hasChecksum = hasChecksum
            var bytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]
            try bytes.withUnsafeMutableBytes { p in try h.emit(into: p, source: peer, destination: machine) }
            XCTAssertEqual(bytes[6] == 0 && bytes[7] == 0, !hasChecksum)
            XCTAssertEqual(try parse(bytes), h)
        }
    }

    func testMalformedRejected() throws {
        var d = Array(KernelPackets.udp[20...])
        d[5] = 7                                                       // length < 8
        XCTAssertThrowsError(try parse(d)) { XCTAssertEqual($0 as? IPPacketError, .badLength) }
        d = Array(KernelPackets.udp[20...]); d[7] ^= 1
        XCTAssertThrowsError(try parse(d)) { XCTAssertEqual($0 as? IPPacketError, .badChecksum) }
        d = Array(KernelPackets.udp[20..<30])
        XCTAssertThrowsError(try parse(d)) { XCTAssertEqual($0 as? IPPacketError, .truncated) }
        let h = UDPHeader(sourcePort: 1, destinationPort: 2, payloadLength: 4)
        var short = [UInt8](repeating: 0, count: 11)
        try short.withUnsafeMutableBytes { p in
            XCTAssertThrowsError(try h.emit(into: p, source: peer, destination: machine)) {
                XCTAssertEqual($0 as? IPPacketError, .bufferTooSmall(needed: 12, available: 11))
            }
        }
    }

    private func parse(_ datagram: [UInt8]) throws -> UDPHeader {
        try datagram.withUnsafeBytes { p in try UDPHeader.parse(p, source: peer, destination: machine) }
    }
}
