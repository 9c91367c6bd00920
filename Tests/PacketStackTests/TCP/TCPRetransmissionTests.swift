import TestSupport
import Wire
import XCTest
@testable import PacketStack

/// Lost segments: RTO with backoff, giving up after the retries, fast retransmit on duplicate ACKs.
final class TCPRetransmissionTests: XCTestCase {
    func testRetransmissionTimeoutWithBackoffAndRecovery() {
        let h = Harness()
        let (flow, iss, _) = h.connect()
        let data = bytes(1000, seed: 6)
        h.write(flow, data)
        let first = h.output()
        XCTAssertEqual(first.count, 1)
        // No ACK: RTO fires at 1 s (no RTT sample yet beyond the handshake at t=0 → SRTT 0 → min 200 ms).
        var times: [Double] = []
        for _ in 0..<3 {
            guard let d = h.stack.nextDeadline else { return XCTFail() }
            h.now = d
            h.stack.advance(now: d)
            let re = h.output()
            XCTAssertEqual(re.count, 1)
            XCTAssertEqual(re[0].seq, iss &+ 1)
            XCTAssertEqual(re[0].payload, data)
            times.append(d)
        }
        XCTAssertEqual(times[1] - times[0], 2 * (times[0] - 0), accuracy: 1e-9)
        XCTAssertEqual(times[2] - times[1], 2 * (times[1] - times[0]), accuracy: 1e-9)
        h.send(h.tcp(seq: 1001, ack: iss &+ 1 &+ 1000, flags: .ack))
        XCTAssertNil(h.stack.nextDeadline, "all acknowledged: no timer")
    }

    func testGivesUpAfterRetries() {
        let h = Harness()
        let (flow, _, _) = h.connect()
        h.write(flow, [1, 2, 3])
        _ = h.output()
        var n = 0
        while let d = h.stack.nextDeadline, n < 100 { h.now = d; h.stack.advance(now: d); n += 1 }
        XCTAssertEqual(h.events(), [.tcpClosed(flow, reset: true)])
        XCTAssertEqual(h.output().last?.flags, [.rst, .ack])
        XCTAssertEqual(h.stack.flowCount, 0)
    }

    func testFastRetransmitOnThreeDuplicateACKs() {
        let h = Harness()
        let (flow, iss, _) = h.connect()
        h.write(flow, bytes(10 * 1460, seed: 7))
        let segs = h.output()
        XCTAssertEqual(segs.count, 10)
        // Segment 0 lost; segments 1...3 each produce a duplicate ACK.
        for _ in 0..<2 {
            h.send(h.tcp(seq: 1001, ack: iss &+ 1, flags: .ack))
            XCTAssertTrue(h.output().isEmpty)
        }
        h.send(h.tcp(seq: 1001, ack: iss &+ 1, flags: .ack))
        let re = h.output()
        XCTAssertEqual(re.first?.seq, iss &+ 1)
        XCTAssertEqual(re.first?.payload, segs[0].payload)
        XCTAssertTrue(h.stack.nextDeadline! > h.now)
    }
}
