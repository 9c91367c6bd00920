import TestSupport
import Wire
import XCTest
@testable import PacketStack

/// Receive and send windows: closing and reopening, zero-window probes, writable signals.
final class TCPWindowTests: XCTestCase {
    func testReceiveWindowClosesAndReopensWithUpdate() {
        let h = Harness { $0.receiveBuffer = 8192; $0.mtu = 1500 }
        let (flow, iss, synAck) = h.connect(wscale: nil)
        XCTAssertEqual(synAck.tcp!.window, 8192)
        let data = bytes(10_000, seed: 8)
        var seq: UInt32 = 1001
        var lastAck: Out?
        for i in 0..<7 {   // 7 × 1400 > 8192: the last segments do not fit
            h.send(h.tcp(seq: seq, ack: iss &+ 1, flags: .ack, payload: Array(data[(i * 1400)..<((i + 1) * 1400)])))
            if let a = h.output().last { lastAck = a }
            seq = 1001 + UInt32(min((i + 1) * 1400, 8192))
        }
        XCTAssertEqual(h.stack.receivedCount(flow), 8192, "memory bounded by the receive buffer")
        XCTAssertEqual(lastAck?.tcp?.window, 0)
        XCTAssertEqual(lastAck?.tcp?.acknowledgmentNumber, 1001 + 8192)
        // A segment into the closed window is dropped, answered with an ACK.
        h.send(h.tcp(seq: 1001 + 8192, ack: iss &+ 1, flags: .ack, payload: [1, 2, 3]))
        XCTAssertEqual(h.output().map { $0.tcp!.window }, [0])
        XCTAssertEqual(h.stack.receivedCount(flow), 8192)
        // Reading a little does not announce a silly window; reading enough does.
        XCTAssertEqual(h.read(flow, max: 100).count, 100)
        XCTAssertTrue(h.output().isEmpty)
        XCTAssertEqual(h.read(flow).count, 8092)
        let update = h.output()
        XCTAssertEqual(update.map { $0.tcp!.window }, [8192])
        XCTAssertEqual(Array(data[0..<8192]), Array(data[0..<8192]))
    }

    func testZeroWindowProbe() {
        let h = Harness()
        let (flow, iss, _) = h.connect(wscale: nil, window: 1000)
        h.write(flow, bytes(3000, seed: 9))
        XCTAssertEqual(h.output().map(\.payload.count), [1000])
        h.send(h.tcp(seq: 1001, ack: iss &+ 1001, flags: .ack, window: 0))   // all taken, window closed
        XCTAssertTrue(h.output().isEmpty)
        guard let d = h.stack.nextDeadline else { return XCTFail("persist timer") }
        h.now = d
        h.stack.advance(now: d)
        let probe = h.output()
        XCTAssertEqual(probe.count, 1)
        XCTAssertEqual(probe[0].seq, iss &+ 1000, "probe with an old sequence number, like Linux")
        XCTAssertTrue(probe[0].payload.isEmpty)
        XCTAssertGreaterThan(h.stack.nextDeadline!, d, "probes continue")
        h.send(h.tcp(seq: 1001, ack: iss &+ 1001, flags: .ack, window: 4000))
        XCTAssertEqual(h.output().map(\.payload.count), [1460, 540])
    }

    func testWritableAfterSendBufferFull() {
        let h = Harness { $0.sendBuffer = 4096 }
        let (flow, iss, _) = h.connect()
        XCTAssertEqual(h.write(flow, bytes(10_000, seed: 10)), 4096)
        XCTAssertEqual(h.stack.sendCapacity(flow), 0)
        _ = h.output()
        h.send(h.tcp(seq: 1001, ack: iss &+ 1 &+ 2920, flags: .ack))
        XCTAssertEqual(h.events(), [.tcpWritable(flow)])
        XCTAssertEqual(h.stack.sendCapacity(flow), 2920)
    }

    /// The share agent never offers more than `sendCapacity` (it reads its socket only while
    /// there is room), so an exactly full buffer must still bring `tcpWritable` once acked.
    func testWritableAfterExactFillAndCapacityQuery() {
        let h = Harness { $0.sendBuffer = 4096 }
        let (flow, iss, _) = h.connect()
        XCTAssertEqual(h.write(flow, bytes(4096, seed: 12)), 4096)
        XCTAssertEqual(h.stack.sendCapacity(flow), 0)
        _ = h.output()
        h.send(h.tcp(seq: 1001, ack: iss &+ 1 &+ 2920, flags: .ack))
        XCTAssertEqual(h.events(), [.tcpWritable(flow)])
    }
}
