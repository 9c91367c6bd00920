import Wire
import XCTest
@testable import PacketStack

final class ChecksumTests: XCTestCase {
    func testRFC1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        bytes.withUnsafeBytes { XCTAssertEqual(Checksum.sum($0), 0xddf2) }
        bytes.withUnsafeBytes { XCTAssertEqual(Checksum.finish(Checksum.sum($0)), 0x220d) }
    }

    /// The wide-accumulator sum equals a plain 16-bit word loop for every length and alignment.
    func testMatchesNaiveSum() {
        var rng = SplitMix(seed: 7)
        var buf = [UInt8](repeating: 0, count: 3000)
        for i in buf.indices { buf[i] = UInt8(truncatingIfNeeded: rng.next()) }
        for len in [0, 1, 2, 3, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 1499, 1500, 2999] {
            for start in 0..<3 where start + len <= buf.count {
                var naive: UInt32 = 0
                var i = start
                while i + 1 < start + len { naive += UInt32(buf[i]) << 8 | UInt32(buf[i + 1]); i += 2 }
                if i < start + len { naive += UInt32(buf[i]) << 8 }
                while naive > 0xFFFF { naive = (naive & 0xFFFF) + (naive >> 16) }
                let fast = buf.withUnsafeBytes { Checksum.sum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + len)])) }
                XCTAssertEqual(fast == 0xFFFF ? 0 : fast, naive == 0xFFFF ? 0 : naive, "len \(len) start \(start)")
            }
        }
    }
}

final class IPv4AddressTests: XCTestCase {
    func testParse() {
        XCTAssertEqual(IPv4Address("172.16.0.2"), IPv4Address(172, 16, 0, 2))
        XCTAssertEqual(IPv4Address("0.0.0.0")?.value, 0)
        XCTAssertEqual(IPv4Address("255.255.255.255")?.value, 0xFFFF_FFFF)
        XCTAssertEqual(IPv4Address(10, 250, 0, 2).description, "10.250.0.2")
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "1.2.3.4 ", "a.b.c.d", "1.2.3.-4", "1.2.3.1000"] {
            XCTAssertNil(IPv4Address(bad), bad)
        }
    }
}

final class WireFixtureTests: XCTestCase {
    func testKernelSYN() throws {
        try Fixtures.syn.withUnsafeBytes { p in
            let ip = try IPv4Header.parse(p)
            XCTAssertEqual(ip.source, Fixtures.peer)
            XCTAssertEqual(ip.destination, Fixtures.machine)
            XCTAssertEqual(ip.protocolNumber, IPv4Header.protocolTCP)
            XCTAssertEqual(ip.totalLength, 60)
            XCTAssertTrue(ip.dontFragment)
            XCTAssertFalse(ip.isFragment)
            let seg = UnsafeRawBufferPointer(rebasing: p[ip.payloadRange])
            XCTAssertTrue(TCPHeader.verifyChecksum(seg, source: ip.source, destination: ip.destination))
            let tcp = try TCPHeader.parse(seg)
            XCTAssertEqual(tcp.sourcePort, 50640)
            XCTAssertEqual(tcp.destinationPort, 8080)
            XCTAssertEqual(tcp.sequenceNumber, 0x1b0f_9085)
            XCTAssertEqual(tcp.flags, .syn)
            XCTAssertEqual(tcp.window, 64240)
            XCTAssertEqual(tcp.headerLength, 40)
            XCTAssertEqual(tcp.maxSegmentSize, 1460)
            XCTAssertEqual(tcp.windowScale, 10)
            XCTAssertTrue(tcp.sackPermitted)
            XCTAssertEqual(tcp.timestampValue, 0x8a78_72dd)
            // The IP header re-emits byte for byte.
            var out = [UInt8](repeating: 0, count: 20)
            out.withUnsafeMutableBytes { ip.emit(into: $0.baseAddress!) }
            XCTAssertEqual(out, Array(Fixtures.syn[0..<20]))
        }
    }

    func testKernelDataSegment() throws {
        try Fixtures.data.withUnsafeBytes { p in
            let ip = try IPv4Header.parse(p)
            let seg = UnsafeRawBufferPointer(rebasing: p[ip.payloadRange])
            XCTAssertTrue(TCPHeader.verifyChecksum(seg, source: ip.source, destination: ip.destination))
            let tcp = try TCPHeader.parse(seg)
            XCTAssertEqual(tcp.flags, [.psh, .ack])
            XCTAssertEqual(tcp.acknowledgmentNumber, 1001)
            XCTAssertEqual(Array(seg[tcp.headerLength...]), Array("hello from the kernel\n".utf8))
            // Re-emitting the header over the same payload reproduces the kernel's segment exactly.
            var out = [UInt8](seg)
            out.withUnsafeMutableBytes {
                tcp.emit(into: $0.baseAddress!)
                TCPHeader.fillChecksum($0.baseAddress!, length: $0.count, source: ip.source, destination: ip.destination)
            }
            XCTAssertEqual(out, Array(seg))
        }
    }

    func testKernelUDP() throws {
        let parsed = try XCTUnwrap(Fixtures.udp.withUnsafeBytes { UDPPacket.parse($0) })
        XCTAssertEqual(parsed.source, Fixtures.peer)
        XCTAssertEqual(parsed.sourcePort, 40000)
        XCTAssertEqual(parsed.destination, Fixtures.machine)
        XCTAssertEqual(parsed.destinationPort, 5353)
        XCTAssertEqual(Array(Fixtures.udp[parsed.payload]), Array("udp payload!".utf8))
        // Building the same datagram gives the kernel's UDP bytes (the IP id differs).
        let built = Array("udp payload!".utf8).withUnsafeBytes {
            UDPPacket.build(source: Fixtures.peer, sourcePort: 40000, destination: Fixtures.machine, destinationPort: 5353, payload: $0)
        }
        XCTAssertEqual(Array(built[20...]), Array(Fixtures.udp[20...]))
        XCTAssertNotNil(built.withUnsafeBytes { UDPPacket.parse($0) })
    }

    func testKernelICMPEcho() throws {
        try Fixtures.icmpEcho.withUnsafeBytes { p in
            let ip = try IPv4Header.parse(p)
            let h = try ICMPv4Header.parse(UnsafeRawBufferPointer(rebasing: p[ip.payloadRange]))
            XCTAssertEqual(h.type, ICMPv4Header.echoRequest)
            XCTAssertEqual(h.identifier, 0x0432)
            XCTAssertEqual(h.sequence, 7)
        }
    }

    func testTCPOptionsRoundTrip() throws {
        var h = TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4, flags: [.syn, .ack], window: 5)
        h.maxSegmentSize = 65495
        h.windowScale = 7
        h.sackPermitted = true
        var buf = [UInt8](repeating: 0, count: h.emittedLength)
        buf.withUnsafeMutableBytes { _ = h.emit(into: $0.baseAddress!) }
        var back = try buf.withUnsafeBytes { try TCPHeader.parse($0) }
        XCTAssertEqual(back.headerLength, 32)
        back.headerLength = 20
        h.headerLength = 20
        XCTAssertEqual(back, h)
    }

    func testMalformedRejected() {
        func ipError(_ bytes: [UInt8]) -> WireError? {
            bytes.withUnsafeBytes { (p) -> WireError? in
                do { _ = try IPv4Header.parse(p); return nil } catch { return error as? WireError }
            }
        }
        for n in 0..<20 { XCTAssertEqual(ipError(Array(Fixtures.syn[0..<n])), .truncated) }
        XCTAssertEqual(ipError(Array(Fixtures.syn[0..<59])), .truncated)   // total length says 60
        var b = Fixtures.syn; b[0] = 0x44
        XCTAssertEqual(ipError(b), .badHeaderLength)
        b = Fixtures.syn; b[0] = 0x65
        XCTAssertEqual(ipError(b), .badVersion)
        b = Fixtures.ack; b[0] = 0x4F
        XCTAssertEqual(ipError(b), .truncated)                             // IHL 60 > 40 bytes
        b = Fixtures.syn; b[3] = 10
        XCTAssertEqual(ipError(b), .badLength)                             // total < IHL
        b = Fixtures.syn; b[8] ^= 1
        XCTAssertEqual(ipError(b), .badChecksum)

        func tcpError(_ seg: [UInt8]) -> WireError? {
            seg.withUnsafeBytes { (p) -> WireError? in
                do { _ = try TCPHeader.parse(p); return nil } catch { return error as? WireError }
            }
        }
        let seg = Array(Fixtures.syn[20...])
        XCTAssertEqual(tcpError(Array(seg[0..<19])), .truncated)
        var s = seg; s[12] = 0x40
        XCTAssertEqual(tcpError(s), .badHeaderLength)
        s = seg; s[12] = 0xF0
        XCTAssertEqual(tcpError(s), .truncated)
        s = seg; s[21] = 0                                                 // MSS option length 0
        XCTAssertEqual(tcpError(s), .badOption)
        s = seg; s[21] = 40                                                // runs past the header
        XCTAssertEqual(tcpError(s), .badOption)
        s = seg; s[30] ^= 0xFF                                             // payload-independent bit flip
        XCTAssertFalse(s.withUnsafeBytes { TCPHeader.verifyChecksum($0, source: Fixtures.peer, destination: Fixtures.machine) })

        var u = Fixtures.udp; u[25] = 7                                    // UDP length < 8
        XCTAssertNil(u.withUnsafeBytes { UDPPacket.parse($0) })
        u = Fixtures.udp; u[27] ^= 1
        XCTAssertNil(u.withUnsafeBytes { UDPPacket.parse($0) })
        var i = Fixtures.icmpEcho; i[30] ^= 1
        XCTAssertThrowsError(try i.withUnsafeBytes { try ICMPv4Header.parse(UnsafeRawBufferPointer(rebasing: $0[20...])) })
    }
}
