import TestSupport
import Wire
import XCTest

final class UDPPacketTests: XCTestCase {
    func testKernelPacketParsesAndReEmits() throws {
        let parsed = try XCTUnwrap(KernelPackets.udp.withUnsafeBytes { UDPPacket.parse($0) })
        XCTAssertEqual(parsed.source, KernelPackets.peer)
        XCTAssertEqual(parsed.sourcePort, 40000)
        XCTAssertEqual(parsed.destination, KernelPackets.machine)
        XCTAssertEqual(parsed.destinationPort, 5353)
        XCTAssertEqual(Array(KernelPackets.udp[parsed.payload]), Array("udp payload!".utf8))
        // Emitting the same datagram in front of its payload gives the kernel's bytes (the IP id
        // and TTL aside, which the kernel chose).
        var out = [UInt8](repeating: 0, count: UDPPacket.headerLength) + Array("udp payload!".utf8)
        let length = try out.withUnsafeMutableBytes { p in
            try UDPPacket.emit(into: p, source: KernelPackets.peer, sourcePort: 40000, destination: KernelPackets.machine,
                               destinationPort: 5353, payloadLength: 12, identification: 0x1bf0)
        }
        XCTAssertEqual(length, out.count)
        XCTAssertEqual(out, KernelPackets.udp)
    }

    func testNotUDPOrBrokenIsNil() {
        XCTAssertNil(KernelPackets.syn.withUnsafeBytes { UDPPacket.parse($0) })
        var bad = KernelPackets.udp; bad[27] ^= 1
        XCTAssertNil(bad.withUnsafeBytes { UDPPacket.parse($0) })
        // A fragment with a valid IP checksum: refused for being a fragment, not for a bad checksum.
        var fragment = KernelPackets.udp
        var ip = try! fragment.withUnsafeBytes { try IPv4Header.parse($0) }
        ip.moreFragments = true
        _ = try! fragment.withUnsafeMutableBytes { try ip.emit(into: $0) }
        XCTAssertNoThrow(try fragment.withUnsafeBytes { try IPv4Header.parse($0) })
        XCTAssertNil(fragment.withUnsafeBytes { UDPPacket.parse($0) })
    }

    func testEmitIntoATooSmallBufferThrows() throws {
        var out = [UInt8](repeating: 0, count: 30)
        try out.withUnsafeMutableBytes { p in
            XCTAssertThrowsError(try UDPPacket.emit(into: p, source: KernelPackets.peer, sourcePort: 1, destination: KernelPackets.machine,
                                                    destinationPort: 2, payloadLength: 3)) {
                XCTAssertEqual($0 as? IPPacketError, .bufferTooSmall(needed: 31, available: 30))
            }
        }
    }
}
