import TestSupport
import Wire
import XCTest
@testable import PacketStack

/// Opening a flow: SYN options (MSS, window scale), refusal, repeated and lost SYN/SYN-ACK.
final class TCPHandshakeTests: XCTestCase {
    func testHandshakeNegotiatesMSSAndWindowScale() {
        let h = Harness()
        let (flow, iss, synAck) = h.connect(mss: 1460, wscale: 7)
        XCTAssertEqual(synAck.tcp!.maxSegmentSize, 65495)            // mtu 65535 - 40
        XCTAssertEqual(synAck.tcp!.windowScale, 7)                   // 65535 << 7 ≥ 4 MiB
        XCTAssertEqual(synAck.tcp!.window, 65535)                    // SYN windows are never scaled
        XCTAssertEqual(synAck.ip.source, KernelPackets.machine)
        XCTAssertEqual(h.stack.flowCount, 1)
        // The stack sends with the peer's MSS.
        XCTAssertEqual(h.write(flow, bytes(4000, seed: 1)), 4000)
        let segs = h.output()
        XCTAssertEqual(segs.map(\.payload.count), [1460, 1460, 1080])
        XCTAssertEqual(segs.first?.seq, iss &+ 1)
        XCTAssertEqual(segs.map { $0.flags.contains(.psh) }, [false, false, true])
        // Our window is scaled by 7 from here on: 4 MiB free → 32768.
        XCTAssertEqual(segs[0].tcp!.window, 32768)
    }

    func testNoWindowScaleWithoutPeerOption() {
        let h = Harness { $0.mtu = 1500 }
        let (_, _, synAck) = h.connect(mss: 1460, wscale: nil)
        XCTAssertNil(synAck.tcp!.windowScale)
        XCTAssertEqual(synAck.tcp!.maxSegmentSize, 1460)
    }

    func testKernelSYNFixtureOpensFlow() {
        let h = Harness()
        h.send(KernelPackets.syn)
        XCTAssertEqual(h.events(), [.tcpConnect(1, port: 8080)])
        h.stack.tcpConnected(1, now: 0)
        let synAck = h.output()[0]
        XCTAssertEqual(synAck.tcp!.acknowledgmentNumber, 0x1b0f_9086)
        XCTAssertEqual(synAck.tcp!.destinationPort, 50640)
    }

    func testRefusedSendsRST() {
        let h = Harness()
        h.send(h.tcp(seq: 500, flags: .syn, mss: 1460))
        guard case .tcpConnect(let flow, _)? = h.events().first else { return XCTFail() }
        h.stack.tcpRefused(flow)
        let out = h.output()
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].flags, [.rst, .ack])
        XCTAssertEqual(out[0].tcp!.acknowledgmentNumber, 501)
        XCTAssertEqual(h.stack.flowCount, 0)
    }

    func testRepeatedSYNWhileDialingIsIgnoredAndLostSynAckIsResent() {
        let h = Harness()
        h.send(h.tcp(seq: 500, flags: .syn, mss: 1460))
        XCTAssertEqual(h.events().count, 1)
        h.send(h.tcp(seq: 500, flags: .syn, mss: 1460))
        XCTAssertEqual(h.events(), [])
        XCTAssertTrue(h.output().isEmpty)
        h.stack.tcpConnected(1, now: 0)
        let first = h.output()[0]
        h.send(h.tcp(seq: 500, flags: .syn, mss: 1460))          // the SYN-ACK was lost
        let again = h.output()
        XCTAssertEqual(again.map(\.flags), [[.syn, .ack]])
        XCTAssertEqual(again[0].seq, first.seq)
        // And the SYN-ACK is retransmitted by timer, with backoff, then given up.
        var times: [Double] = []
        while let d = h.stack.nextDeadline, h.stack.flowCount > 0 {
            h.now = d
            h.stack.advance(now: d)
            times.append(d)
            _ = h.output()
        }
        XCTAssertEqual(times, [1, 3, 7, 15, 31, 63])
        XCTAssertEqual(h.events(), [.tcpClosed(1, reset: true)])
    }
}
