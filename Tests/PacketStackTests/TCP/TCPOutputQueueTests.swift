import TestSupport
import Wire
import XCTest
@testable import PacketStack

/// A connection behind a full output queue (the tunnel backed up): no new data, no piled-up retransmissions.
final class TCPOutputQueueTests: XCTestCase {
    /// Found by FuzzPackets: with the tunnel backed up, every RTO added another copy of the
    /// segment to the output queue. The copy still waiting there is enough; the timer backs off.
    func testTimeoutWhileOutputQueueIsFullAddsNothing() {
        let h = Harness { $0.outputQueueLimit = 3000 }
        let (flow, _, _) = h.connect()
        XCTAssertEqual(h.write(flow, bytes(20_000, seed: 13)), 20_000)
        let queued = h.stack.queuedOutputBytes
        XCTAssertGreaterThanOrEqual(queued, 3000)
        for _ in 0..<5 {
            h.now = h.stack.nextDeadline ?? h.now + 1
            h.stack.advance(now: h.now)
            XCTAssertEqual(h.stack.queuedOutputBytes, queued, "no retransmission piles up behind a full queue")
        }
        XCTAssertEqual(h.stack.flowCount, 1, "waiting for the tunnel spends no retries")
    }

    func testOutputQueueLimitStopsNewData() {
        let h = Harness { $0.outputQueueLimit = 3000 }
        let (flow, _, _) = h.connect()
        XCTAssertEqual(h.write(flow, bytes(20_000, seed: 11)), 20_000)
        XCTAssertEqual(h.stack.queuedOutputBytes, 2 * 1500)   // stops once at/over 3000 bytes
        var sent = 0
        h.stack.transmit { _ in sent += 1; return sent <= 1 }   // the tunnel takes one packet
        XCTAssertEqual(h.stack.queuedOutputBytes, 1500, "no new data while packets wait")
        var all: [Out] = []
        h.stack.transmit { all.append(Harness.parse(Array($0))); return true }
        XCTAssertEqual(all.reduce(0) { $0 + $1.payload.count } + 1460, 20_000, "resumed as the queue drained")
        XCTAssertEqual(h.stack.queuedOutputBytes, 0)
    }
}
