import TestSupport
import Wire
import XCTest

final class TCPHeaderTests: XCTestCase {
    private let peer = KernelPackets.peer
    private let machine = KernelPackets.machine

    func testKernelSYNOptions() throws {
        let (h, offset) = try parse(segment(of: KernelPackets.syn))
        XCTAssertEqual(offset, 40)
        XCTAssertEqual(h.sourcePort, 50640)
        XCTAssertEqual(h.destinationPort, 8080)
        XCTAssertEqual(h.sequenceNumber, 0x1b0f_9085)
        XCTAssertEqual(h.flags, .syn)
        XCTAssertEqual(h.window, 64240)
        XCTAssertEqual(h.maxSegmentSize, 1460)
        XCTAssertEqual(h.windowScale, 10)
        XCTAssertTrue(h.sackPermitted)
        XCTAssertEqual(h.timestamp, TCPTimestamp(value: 0x8a78_72dd, echo: 0))
        XCTAssertEqual(h.headerLength, 40)
    }

    /// emit(parse(segment)) == segment for the kernel's segments: options in Linux's layout, payload, checksum.
    func testKernelSegmentsReEmitByteForByte() throws {
        for packet in [KernelPackets.syn, KernelPackets.ack, KernelPackets.data] {
            let original = segment(of: packet)
            let (h, offset) = try parse(original)
            XCTAssertEqual(offset, h.headerLength)
            var out = original
            for i in 0..<h.headerLength { out[i] = 0 }
            try out.withUnsafeMutableBytes { p in _ = try h.emit(into: p, source: peer, destination: machine) }
            XCTAssertEqual(out, original)
        }
        let (data, offset) = try parse(segment(of: KernelPackets.data))
        XCTAssertEqual(data.flags, [.psh, .ack])
        XCTAssertEqual(Array(segment(of: KernelPackets.data)[offset...]), Array("hello from the kernel\n".utf8))
    }

    /// parse(emit(h)) == h for every combination of options the codec knows.
    func testOptionCombinationsRoundTrip() throws {
        for mask in 0..<16 {
            var h = TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4, flags: [.syn, .ack], window: 5)
            h.urgentPointer = 6
            if mask & 1 != 0 { h.maxSegmentSize = 65495 }
            if mask & 2 != 0 { h.windowScale = 15 }   // carried as sent; receivers cap it
            if mask & 4 != 0 { h.sackPermitted = true }
            if mask & 8 != 0 { h.timestamp = TCPTimestamp(value: 7, echo: 8) }
            var bytes = [UInt8](repeating: 0, count: h.headerLength) + [1, 2, 3]
            try bytes.withUnsafeMutableBytes { p in _ = try h.emit(into: p, source: peer, destination: machine) }
            let (back, offset) = try parse(bytes)
            XCTAssertEqual(back, h, "options \(mask)")
            XCTAssertEqual(offset, h.headerLength)
        }
    }

    func testEmitIntoATooSmallBufferThrows() throws {
        var h = TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4, flags: .syn, window: 5)
        h.maxSegmentSize = 1460
        var bytes = [UInt8](repeating: 0xEE, count: 23)
        try bytes.withUnsafeMutableBytes { p in
            XCTAssertThrowsError(try h.emit(into: p, source: peer, destination: machine)) {
                XCTAssertEqual($0 as? IPPacketError, .bufferTooSmall(needed: 24, available: 23))
            }
        }
        XCTAssertEqual(bytes, [UInt8](repeating: 0xEE, count: 23))
    }

    func testMalformedRejected() {
        func error(_ seg: [UInt8]) -> IPPacketError? {
            do { _ = try parse(seg); return nil } catch { return error as? IPPacketError }
        }
        let seg = segment(of: KernelPackets.syn)
        XCTAssertEqual(error(Array(seg[0..<19])), .truncated)
        var s = seg; s[12] = 0x40
        XCTAssertEqual(error(s), .badHeaderLength)
        s = seg; s[12] = 0xF0
        XCTAssertEqual(error(s), .truncated)
        s = seg; s[21] = 0                          // MSS option length 0
        XCTAssertEqual(error(s), .badOption)
        s = seg; s[21] = 40                         // runs past the header
        XCTAssertEqual(error(s), .badOption)
        s = seg; s[30] ^= 0xFF
        XCTAssertEqual(error(s), .badChecksum)
    }

    private func segment(of packet: [UInt8]) -> [UInt8] { Array(packet[20...]) }

    private func parse(_ segment: [UInt8]) throws -> (header: TCPHeader, payloadOffset: Int) {
        // (An untyped closure: a typed-throws one returning this tuple crashes Swift 6.3's SILGen.)
        try segment.withUnsafeBytes { try TCPHeader.parse($0, source: peer, destination: machine) }
    }
}
