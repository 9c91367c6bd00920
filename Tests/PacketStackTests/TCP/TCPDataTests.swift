import TestSupport
import Wire
import XCTest
@testable import PacketStack

/// Bytes both ways: delayed ACKs, exact delivery, reordering and duplicates.
final class TCPDataTests: XCTestCase {
    /// A small request is not acknowledged on its own at once: the answer carries the ACK (one
    /// packet through relay and peer instead of two); with no answer, the delayed-ACK timer sends it.
    func testSmallRequestAckRidesOnTheAnswer() {
        let h = Harness()
        let (flow, iss, _) = h.connect()
        // The SYN-ACK cannot carry a scaled window, so the first read announces the full one.
        h.send(h.tcp(seq: 1001, ack: iss &+ 1, flags: [.ack, .psh], payload: bytes(10, seed: 19)))
        _ = h.read(flow)
        XCTAssertEqual(h.output().count, 1, "the first read announces the scaled window")
        h.send(h.tcp(seq: 1011, ack: iss &+ 1, flags: [.ack, .psh], payload: bytes(64, seed: 20)))
        XCTAssertEqual(h.read(flow).count, 64)
        let early = h.output()
        XCTAssertEqual(early.count, 0, "no pure ACK for a 64-byte request")
        XCTAssertEqual(h.write(flow, bytes(64, seed: 21)), 64)
        let answer = h.output()
        XCTAssertEqual(answer.count, 1)
        XCTAssertEqual(answer.first?.tcp?.acknowledgmentNumber, 1075, "the answer acknowledges the request")
        XCTAssertEqual(answer.first?.payload.count, 64)

        h.send(h.tcp(seq: 1075, ack: iss &+ 65, flags: [.ack, .psh], payload: bytes(64, seed: 22)))
        _ = h.read(flow)
        XCTAssertEqual(h.output().count, 0)
        h.now += h.stack.config.delayedAckTimeout
        h.stack.advance(now: h.now)
        XCTAssertEqual(h.output().map { $0.tcp?.acknowledgmentNumber }, [1139], "the timer acknowledges a request left unanswered")
    }

    func testDataBothWaysByteExact() {
        let h = Harness()
        let (flow, iss, _) = h.connect()
        let up = bytes(5000, seed: 2)
        var seq: UInt32 = 1001
        for chunk in stride(from: 0, to: up.count, by: 1460) {
            let part = Array(up[chunk..<min(chunk + 1460, up.count)])
            h.send(h.tcp(seq: seq, ack: iss &+ 1, flags: [.ack, .psh], payload: part))
            seq &+= UInt32(part.count)
        }
        XCTAssertEqual(h.events(), [.tcpReceived(flow)])
        XCTAssertEqual(h.stack.receivedCount(flow), 5000)
        XCTAssertEqual(h.read(flow), up)
        // ACKs: one after two full segments, the rest at transmit.
        let acks = h.output()
        XCTAssertEqual(acks.last?.tcp?.acknowledgmentNumber, seq)
        XCTAssertLessThanOrEqual(acks.count, 3)

        let down = bytes(300_000, seed: 3)
        var got: [UInt8] = []
        var offered = 0
        var rounds = 0
        while got.count < down.count && rounds < 1000 {
            rounds += 1
            if offered < down.count {
                offered += down[offered...].withUnsafeBytes { h.stack.writeTCP(flow, $0, now: h.now) }
            }
            for o in h.output() where !o.payload.isEmpty {
                XCTAssertEqual(o.seq, iss &+ 1 &+ UInt32(got.count))
                got += o.payload
                h.send(h.tcp(seq: seq, ack: iss &+ 1 &+ UInt32(got.count), flags: .ack))
            }
        }
        XCTAssertEqual(got, down)
    }

    func testOutOfOrderAndDuplicateSegments() {
        let h = Harness()
        let (flow, iss, _) = h.connect()
        let data = bytes(4 * 1000, seed: 4)
        func seg(_ i: Int) -> [UInt8] {
            h.tcp(seq: 1001 + UInt32(i * 1000), ack: iss &+ 1, flags: .ack, payload: Array(data[(i * 1000)..<((i + 1) * 1000)]))
        }
        h.send(seg(2))
        var out = h.output()
        XCTAssertEqual(out.map { $0.tcp!.acknowledgmentNumber }, [1001], "dup ACK at once for a hole")
        h.send(seg(3))
        out = h.output()
        XCTAssertEqual(out.map { $0.tcp!.acknowledgmentNumber }, [1001])
        XCTAssertEqual(h.events(), [])
        h.send(seg(0))
        out = h.output()
        XCTAssertEqual(out.map { $0.tcp!.acknowledgmentNumber }, [2001])
        h.send(seg(0))   // duplicate
        out = h.output()
        XCTAssertEqual(out.map { $0.tcp!.acknowledgmentNumber }, [2001])
        h.send(seg(1))   // fills the hole: everything is in
        out = h.output()
        XCTAssertEqual(out.map { $0.tcp!.acknowledgmentNumber }, [5001])
        XCTAssertEqual(h.events(), [.tcpReceived(flow)])
        XCTAssertEqual(h.read(flow), data)
        // A segment overlapping old and new data delivers only the new part.
        let more = bytes(500, seed: 5)
        h.send(h.tcp(seq: 4801, ack: iss &+ 1, flags: .ack, payload: Array(data[3800...]) + more))
        XCTAssertEqual(h.read(flow), more)
    }
}
