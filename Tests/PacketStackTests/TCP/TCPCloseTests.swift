import TestSupport
import Wire
import XCTest
@testable import PacketStack

/// Ending a flow: FIN in either order, RST from the peer or the shell, challenge ACKs.
final class TCPCloseTests: XCTestCase {
    func testShellClosesFirstThenPeer() {
        let h = Harness()
        let (flow, iss, _) = h.connect()
        h.write(flow, [1, 2, 3])
        h.stack.finishTCP(flow, now: h.now)
        let out = h.output()
        XCTAssertEqual(out.map(\.flags), [[.ack, .psh], [.fin, .ack]], "data leaves at once; the FIN follows")
        h.send(h.tcp(seq: 1001, ack: iss &+ 5, flags: .ack))   // FIN acked → FIN-WAIT-2
        // The peer still sends (half-close), then closes.
        h.send(h.tcp(seq: 1001, ack: iss &+ 5, flags: [.ack, .fin], payload: [9, 8]))
        let ack = h.output()
        XCTAssertEqual(ack.last?.tcp?.acknowledgmentNumber, 1004)
        XCTAssertEqual(h.events(), [.tcpReceived(flow)])
        XCTAssertEqual(h.read(flow), [9, 8])
        XCTAssertEqual(h.events(), [.tcpPeerFinished(flow), .tcpClosed(flow, reset: false)])
        XCTAssertEqual(h.stack.flowCount, 0, "TIME_WAIT is not a live flow")
        // A repeated FIN in TIME_WAIT is ACKed again.
        h.send(h.tcp(seq: 1003, ack: iss &+ 5, flags: [.ack, .fin]))
        XCTAssertEqual(h.output().map { $0.tcp!.acknowledgmentNumber }, [1004])
        h.now = 10
        h.stack.advance(now: 10)
        XCTAssertNil(h.stack.nextDeadline)
        h.send(h.tcp(seq: 1003, ack: iss &+ 5, flags: [.ack, .fin]))
        XCTAssertEqual(h.output().map(\.flags), [.rst], "gone after TIME_WAIT")
    }

    func testPeerClosesFirstThenShell() {
        let h = Harness()
        let (flow, iss, _) = h.connect()
        h.send(h.tcp(seq: 1001, ack: iss &+ 1, flags: [.ack, .fin]))
        XCTAssertEqual(h.output().map { $0.tcp!.acknowledgmentNumber }, [1002])
        XCTAssertEqual(h.events(), [.tcpPeerFinished(flow)])
        // The target keeps sending after the peer's FIN.
        let data = bytes(3000, seed: 12)
        h.write(flow, data)
        let segs = h.output()
        XCTAssertEqual(segs.flatMap(\.payload), data)
        h.send(h.tcp(seq: 1002, ack: iss &+ 3001, flags: .ack))
        h.stack.finishTCP(flow, now: h.now)
        let fin = h.output()
        XCTAssertEqual(fin.map(\.flags), [[.fin, .ack]])
        XCTAssertEqual(h.events(), [])
        h.send(h.tcp(seq: 1002, ack: iss &+ 3002, flags: .ack))
        XCTAssertEqual(h.events(), [.tcpClosed(flow, reset: false)])
        XCTAssertEqual(h.stack.flowCount, 0)
        XCTAssertNil(h.stack.nextDeadline)
    }

    func testPeerFinishedWaitsUntilDataRead() {
        let h = Harness()
        let (flow, iss, _) = h.connect()
        h.send(h.tcp(seq: 1001, ack: iss &+ 1, flags: [.ack, .fin], payload: [1, 2, 3]))
        XCTAssertEqual(h.events(), [.tcpReceived(flow)])
        XCTAssertEqual(h.read(flow, max: 2), [1, 2])
        XCTAssertEqual(h.events(), [])
        XCTAssertEqual(h.read(flow), [3])
        XCTAssertEqual(h.events(), [.tcpPeerFinished(flow)])
    }

    func testRSTFromPeer() {
        let h = Harness()
        let (flow, iss, _) = h.connect()
        h.send(h.tcp(seq: 1005, flags: .rst))   // in window, not exact: challenge ACK
        XCTAssertEqual(h.output().map { $0.tcp!.acknowledgmentNumber }, [1001])
        XCTAssertEqual(h.events(), [])
        h.send(h.tcp(seq: 1001 &+ 10_000_000, flags: .rst))   // outside: silently dropped
        XCTAssertTrue(h.output().isEmpty)
        h.send(h.tcp(seq: 1001, ack: iss &+ 1, flags: [.rst, .ack]))
        XCTAssertEqual(h.events(), [.tcpClosed(flow, reset: true)])
        XCTAssertEqual(h.stack.flowCount, 0)
        XCTAssertTrue(h.output().isEmpty)
    }

    func testSYNOnEstablishedFlowGetsChallengeACK() {
        let h = Harness()
        _ = h.connect()
        h.send(h.tcp(seq: 1001, flags: .syn, mss: 1460))
        XCTAssertEqual(h.output().map(\.flags), [.ack])
        XCTAssertEqual(h.stack.flowCount, 1)
    }

    func testAbortSendsRST() {
        let h = Harness()
        let (flow, _, _) = h.connect()
        h.stack.abortTCP(flow)
        XCTAssertEqual(h.output().map(\.flags), [[.rst, .ack]])
        XCTAssertEqual(h.events(), [])
        XCTAssertEqual(h.stack.flowCount, 0)
    }
}
