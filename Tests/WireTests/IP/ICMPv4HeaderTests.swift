import TestSupport
import Wire
import XCTest

final class ICMPv4HeaderTests: XCTestCase {
    func testKernelEchoRequestReEmitsByteForByte() throws {
        let original = Array(KernelPackets.icmpEcho[20...])
        let h = try original.withUnsafeBytes { p in try ICMPv4Header.parse(p) }
        XCTAssertEqual(h.type, ICMPv4Header.echoRequest)
        XCTAssertEqual(h.identifier, 0x0432)
        XCTAssertEqual(h.sequence, 7)
        var out = original
        for i in 0..<8 { out[i] = 0 }
        try out.withUnsafeMutableBytes { p in try h.emit(into: p) }
        XCTAssertEqual(out, original)
    }

    func testRoundTripAndErrors() throws {
        let h = ICMPv4Header(type: ICMPv4Header.destinationUnreachable, code: ICMPv4Header.codePortUnreachable, rest: 0x0102_0304)
        var bytes = [UInt8](repeating: 0, count: 8) + [9, 9, 9]
        try bytes.withUnsafeMutableBytes { p in try h.emit(into: p) }
        XCTAssertEqual(try bytes.withUnsafeBytes { p in try ICMPv4Header.parse(p) }, h)
        bytes[9] ^= 1
        XCTAssertThrowsError(try bytes.withUnsafeBytes { p in try ICMPv4Header.parse(p) }) {
            XCTAssertEqual($0 as? IPPacketError, .badChecksum)
        }
        var short = [UInt8](repeating: 0, count: 7)
        try short.withUnsafeMutableBytes { p in
            XCTAssertThrowsError(try h.emit(into: p)) { XCTAssertEqual($0 as? IPPacketError, .bufferTooSmall(needed: 8, available: 7)) }
        }
    }
}
