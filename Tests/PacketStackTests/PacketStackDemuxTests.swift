import TestSupport
import Wire
import XCTest
@testable import PacketStack

/// What the stack does with packets before a connection sees them: unknown flows, limits, foreign
/// addresses, fragments and garbage.
final class PacketStackDemuxTests: XCTestCase {
    func testRSTForUnknownFlow() {
        let h = Harness()
        h.send(h.tcp(seq: 77, ack: 1234, flags: .ack, payload: [1]))
        var out = h.output()
        XCTAssertEqual(out.map(\.flags), [.rst])
        XCTAssertEqual(out[0].seq, 1234)
        h.send(h.tcp(seq: 77, flags: .fin, payload: [1, 2]))
        out = h.output()
        XCTAssertEqual(out.map(\.flags), [[.rst, .ack]])
        XCTAssertEqual(out[0].tcp!.acknowledgmentNumber, 80)
        h.send(h.tcp(seq: 77, flags: .rst))
        XCTAssertTrue(h.output().isEmpty, "never RST a RST")
        XCTAssertEqual(h.stack.counters.noFlow, 3)
    }

    func testHalfOpenLimitAndFlowTableFull() {
        let h = Harness { $0.maxHalfOpen = 2; $0.maxFlows = 3 }
        for p in 0..<3 { h.send(h.tcp(sport: 1000 + UInt16(p), seq: 1, flags: .syn)) }
        XCTAssertEqual(h.events().count, 2)
        XCTAssertEqual(h.stack.counters.halfOpenLimit, 1)
        XCTAssertEqual(h.output().map(\.flags), [[.rst, .ack]])
        h.stack.tcpConnected(1, now: 0)
        let synAck = h.output()[0]
        h.send(h.tcp(sport: 1000, seq: 2, ack: synAck.seq &+ 1, flags: .ack))   // flow 1 established
        h.send(h.tcp(sport: 1003, seq: 1, flags: .syn))
        XCTAssertEqual(h.events().count, 1)
        h.send(h.tcp(sport: 1004, seq: 1, flags: .syn))
        XCTAssertEqual(h.stack.counters.flowTableFull, 1)
        XCTAssertEqual(h.output().map(\.flags), [[.rst, .ack]])
        XCTAssertEqual(h.stack.flowCount, 3)
        let c = h.stack.counters
        XCTAssertEqual(c.packetsIn, c.accepted + c.inboundDropped)
    }

    func testPacketsForAnotherAddressAreDropped() {
        let h = Harness()
        var h2 = TCPHeader(sourcePort: 1, destinationPort: 80, sequenceNumber: 1, acknowledgmentNumber: 0, flags: .syn, window: 100)
        h2.maxSegmentSize = 1460
        h.send(Harness.tcpPacket(from: h.peer, to: IPv4Address(10, 250, 0, 3), h2))
        XCTAssertEqual(h.stack.counters.notForMachine, 1)
        XCTAssertTrue(h.output().isEmpty)
        XCTAssertEqual(h.events(), [])
    }

    func testFragmentsBadChecksumsAndGarbageAreCounted() {
        let h = Harness()
        var frag = KernelPackets.udp
        frag[6] = 0x20   // MF set
        frag[10] = 0; frag[11] = 0
        let c = frag.withUnsafeBytes { InternetChecksum.finish(InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: $0[0..<20]))) }
        frag[10] = UInt8(c >> 8); frag[11] = UInt8(c & 0xFF)
        h.send(frag)
        var bad = KernelPackets.data
        bad[45] ^= 0x55
        h.send(bad)
        h.send([0x45, 0, 0])
        h.send([])
        var proto = KernelPackets.udp
        proto[9] = 47
        proto[10] = 0; proto[11] = 0
        let c2 = proto.withUnsafeBytes { InternetChecksum.finish(InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: $0[0..<20]))) }
        proto[10] = UInt8(c2 >> 8); proto[11] = UInt8(c2 & 0xFF)
        h.send(proto)
        let k = h.stack.counters
        XCTAssertEqual(k.fragment, 1)
        XCTAssertEqual(k.badChecksum, 1)
        XCTAssertEqual(k.malformed, 2)
        XCTAssertEqual(k.unsupportedProtocol, 1)
        XCTAssertEqual(k.dropped, 5)
        XCTAssertEqual(k.packetsIn, 5)
    }
}
