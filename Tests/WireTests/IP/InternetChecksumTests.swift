import TestSupport
import Wire
import XCTest

final class InternetChecksumTests: XCTestCase {
    func testRFC1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        bytes.withUnsafeBytes { XCTAssertEqual(InternetChecksum.sum($0), 0xddf2) }
        bytes.withUnsafeBytes { XCTAssertEqual(InternetChecksum.finish(InternetChecksum.sum($0)), 0x220d) }
    }

    /// The wide-accumulator sum equals a plain 16-bit word loop for every length and alignment.
    func testMatchesNaiveSum() {
        var rng = SplitMix64(seed: 7)
        var buf = [UInt8](repeating: 0, count: 3000)
        for i in buf.indices { buf[i] = UInt8(truncatingIfNeeded: rng.next()) }
        for len in [0, 1, 2, 3, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 1499, 1500, 2999] {
            for start in 0..<3 where start + len <= buf.count {
                var naive: UInt32 = 0
                var i = start
                while i + 1 < start + len { naive += UInt32(buf[i]) << 8 | UInt32(buf[i + 1]); i += 2 }
                if i < start + len { naive += UInt32(buf[i]) << 8 }
                while naive > 0xFFFF { naive = (naive & 0xFFFF) + (naive >> 16) }
                let fast = buf.withUnsafeBytes { InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + len)])) }
                XCTAssertEqual(fast == 0xFFFF ? 0 : fast, naive == 0xFFFF ? 0 : naive, "len \(len) start \(start)")
            }
        }
    }
}
