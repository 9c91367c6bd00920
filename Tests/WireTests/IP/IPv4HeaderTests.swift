import TestSupport
import Wire
import XCTest

final class IPv4HeaderTests: XCTestCase {
    private let kernelPackets = [KernelPackets.syn, KernelPackets.ack, KernelPackets.data, KernelPackets.udp, KernelPackets.icmpEcho]

    func testKernelSYNFields() throws {
        let ip = try KernelPackets.syn.withUnsafeBytes { try IPv4Header.parse($0) }
        XCTAssertEqual(ip.source, KernelPackets.peer)
        XCTAssertEqual(ip.destination, KernelPackets.machine)
        XCTAssertEqual(ip.protocolNumber, IPv4Header.protocolTCP)
        XCTAssertEqual(ip.totalLength, 60)
        XCTAssertEqual(ip.headerLength, 20)
        XCTAssertTrue(ip.dontFragment)
        XCTAssertFalse(ip.isFragment)
        XCTAssertEqual(ip.payloadRange, 20..<60)
    }

    /// emit(parse(bytes)) == bytes for every header the kernel sent.
    func testKernelHeadersReEmitByteForByte() throws {
        for packet in kernelPackets {
            let ip = try packet.withUnsafeBytes { try IPv4Header.parse($0) }
            XCTAssertEqual(try emitted(ip), Array(packet[0..<20]))
        }
    }

    /// parse(emit(h)) == h, options and fragment fields included.
    func testRoundTripWithOptions() throws {
        var h = IPv4Header(source: IPv4Address(192, 0, 2, 1), destination: IPv4Address(198, 51, 100, 7),
                           protocolNumber: IPv4Header.protocolUDP, payloadLength: 12, identification: 0xBEEF, ttl: 3)
        h.options = [0x94, 0x04, 0x00, 0x00]   // router alert
        h.totalLength = h.headerLength + 12
        h.tos = 0x10
        h.dontFragment = false
        h.moreFragments = true
        h.fragmentOffset = 0x123
        var bytes = try emitted(h)
        XCTAssertEqual(bytes[0], 0x46)
        bytes += [UInt8](repeating: 0xAB, count: 12)
        XCTAssertEqual(try bytes.withUnsafeBytes { try IPv4Header.parse($0) }, h)
    }

    func testEmitNeverWritesPastTheBuffer() throws {
        let h = IPv4Header(source: KernelPackets.peer, destination: KernelPackets.machine, protocolNumber: 6, payloadLength: 0)
        var buffer = [UInt8](repeating: 0xEE, count: 24)
        try buffer.withUnsafeMutableBytes { all in
            let short = UnsafeMutableRawBufferPointer(rebasing: all[0..<19])
            XCTAssertThrowsError(try h.emit(into: short)) {
                XCTAssertEqual($0 as? IPPacketError, .bufferTooSmall(needed: 20, available: 19))
            }
        }
        XCTAssertEqual(buffer, [UInt8](repeating: 0xEE, count: 24), "nothing written")
        var odd = h
        odd.options = [1, 1]
        XCTAssertThrowsError(try emitted(odd)) { XCTAssertEqual($0 as? IPPacketError, .badHeaderLength) }
    }

    func testMalformedRejected() {
        func error(_ bytes: [UInt8]) -> IPPacketError? {
            bytes.withUnsafeBytes { p -> IPPacketError? in
                do { _ = try IPv4Header.parse(p); return nil } catch { return error as? IPPacketError }
            }
        }
        let syn = KernelPackets.syn
        for n in 0..<20 { XCTAssertEqual(error(Array(syn[0..<n])), .truncated) }
        XCTAssertEqual(error(Array(syn[0..<59])), .truncated)   // total length says 60
        var b = syn; b[0] = 0x44
        XCTAssertEqual(error(b), .badHeaderLength)
        b = syn; b[0] = 0x65
        XCTAssertEqual(error(b), .badVersion)
        b = KernelPackets.ack; b[0] = 0x4F
        XCTAssertEqual(error(b), .truncated)                    // IHL 60 > 40 bytes
        b = syn; b[3] = 10
        XCTAssertEqual(error(b), .badLength)                    // total < IHL
        b = syn; b[8] ^= 1
        XCTAssertEqual(error(b), .badChecksum)
        XCTAssertNoThrow(try b.withUnsafeBytes { try IPv4Header.parse($0, verifyChecksum: false) })
    }

    private func emitted(_ h: IPv4Header) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: h.headerLength)
        try out.withUnsafeMutableBytes { p in _ = try h.emit(into: p) }
        return out
    }
}
