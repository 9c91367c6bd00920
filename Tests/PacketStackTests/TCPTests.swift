import TestSupport
import Wire
import XCTest
@testable import PacketStack

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

final class TCPDemuxTests: XCTestCase {
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

final class UDPAndICMPTests: XCTestCase {
    func testUDPFlowReplyAndIdleExpiry() {
        let h = Harness()
        h.send(KernelPackets.udp)
        XCTAssertEqual(h.events(), [.udpFlowOpened(1, port: 5353), .udpReceived(1, payload: Array("udp payload!".utf8))])
        h.send(KernelPackets.udp)
        XCTAssertEqual(h.events(), [.udpReceived(1, payload: Array("udp payload!".utf8))])
        Array("answer".utf8).withUnsafeBytes { h.stack.sendUDP(1, $0, now: 1) }
        let out = h.output()
        XCTAssertEqual(out.count, 1)
        let parsed = out[0].raw.withUnsafeBytes { UDPPacket.parse($0) }!
        XCTAssertEqual(parsed.source, KernelPackets.machine)
        XCTAssertEqual(parsed.sourcePort, 5353)
        XCTAssertEqual(parsed.destination, KernelPackets.peer)
        XCTAssertEqual(parsed.destinationPort, 40000)
        XCTAssertEqual(Array(out[0].raw[parsed.payload]), Array("answer".utf8))
        XCTAssertEqual(h.stack.nextDeadline, 61, "the reply at t=1 kept it alive")
        h.stack.advance(now: 60.5)
        XCTAssertEqual(h.events(), [])
        h.stack.advance(now: 61)
        XCTAssertEqual(h.events(), [.udpFlowExpired(1)])
        XCTAssertEqual(h.stack.flowCount, 0)
        h.send(KernelPackets.udp)
        XCTAssertEqual(h.events().first, .udpFlowOpened(2, port: 5353), "flow ids are never reused")
    }

    func testUDPUnreachable() {
        let h = Harness()
        h.send(KernelPackets.udp)
        _ = h.events()
        h.stack.udpUnreachable(1)
        let out = h.output()
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].icmp?.type, 3)
        XCTAssertEqual(out[0].icmp?.code, 3)
        XCTAssertEqual(out[0].ip.destination, KernelPackets.peer)
        XCTAssertEqual(out[0].payload, Array(KernelPackets.udp[0..<28]), "quotes the IP header + 8 bytes")
    }

    func testPingIsAnswered() {
        let h = Harness()
        h.send(KernelPackets.icmpEcho)
        let out = h.output()
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].icmp?.type, 0)
        XCTAssertEqual(out[0].icmp?.identifier, 0x0432)
        XCTAssertEqual(out[0].icmp?.sequence, 7)
        XCTAssertEqual(out[0].payload, Array(KernelPackets.icmpEcho[28...]))
        XCTAssertEqual(out[0].ip.source, KernelPackets.machine)
        XCTAssertEqual(out[0].ip.destination, KernelPackets.peer)
        XCTAssertEqual(h.events(), [])
    }
}
