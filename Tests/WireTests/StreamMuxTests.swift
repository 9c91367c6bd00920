import XCTest
@testable import Wire

/// Two muxes wired back to back, as the dialer and listener ends of one connection.
struct MuxPair {
    var dialer: StreamMux
    var listener: StreamMux

    init(config: MuxConfig = .init()) throws {
        dialer = StreamMux(role: .dialer, config: config)
        listener = StreamMux(role: .listener, config: config)
        dialer.sendHello(body: Array(#"{"role":"connect"}"#.utf8))
        listener.sendHello(body: Array(#"{"role":"relay"}"#.utf8))
        let (d, l) = try pump()
        precondition(d == [.hello(version: 1, body: Array(#"{"role":"relay"}"#.utf8))])
        precondition(l == [.hello(version: 1, body: Array(#"{"role":"connect"}"#.utf8))])
    }

    /// Moves queued bytes both ways until both outbound buffers are empty.
    /// Returns the events each side saw (dialer's, listener's).
    mutating func pump() throws -> (dialer: [MuxEvent], listener: [MuxEvent]) {
        var d: [MuxEvent] = [], l: [MuxEvent] = []
        while dialer.outboundCount > 0 || listener.outboundCount > 0 {
            l += try listener.receive(dialer.takeOutbound())
            d += try dialer.receive(listener.takeOutbound())
        }
        return (d, l)
    }
}

private func bytes(_ n: Int, seed: UInt8 = 0) -> [UInt8] {
    (0 ..< n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}

/// Concatenates all data events for `stream`.
private func received(_ events: [MuxEvent], stream: UInt32) -> [UInt8] {
    var out: [UInt8] = []
    for case .data(let s, let b) in events where s == stream { out += b }
    return out
}

/// Merges consecutive data events of one stream (DATA pieces) into one.
func joiningData(_ events: [MuxEvent]) -> [MuxEvent] {
    var out: [MuxEvent] = []
    for event in events {
        if case .data(let s, let more) = event, case .data(let last, let bytes)? = out.last, last == s {
            out[out.count - 1] = .data(stream: s, bytes + more)
        } else {
            out.append(event)
        }
    }
    return out
}

private func decodeAll(_ raw: [UInt8]) throws -> [Frame] {
    var dec = FrameDecoder(maxPayload: 16 << 20)
    dec.feed(raw)
    var out: [Frame] = []
    while let f = try dec.next() { out.append(f) }
    return out
}

private func helloBytes() -> [UInt8] { FrameEncoder.encode(.hello(body: [])) }

final class StreamMuxTests: XCTestCase {
    func testOpenDataFinBothWays() throws {
        var p = try MuxPair()
        let s = try XCTUnwrap(p.dialer.open(metadata: Array("tcp:vm:22".utf8)))
        XCTAssertEqual(s, 1)
        XCTAssertEqual(p.dialer.send(stream: s, Array("hello".utf8)), 5)
        var (d, l) = try p.pump()
        XCTAssertEqual(d, [])
        XCTAssertEqual(l, [.opened(stream: 1, metadata: Array("tcp:vm:22".utf8)), .data(stream: 1, Array("hello".utf8))])

        XCTAssertEqual(p.listener.send(stream: s, Array("world".utf8)), 5)
        p.listener.finish(stream: s)
        (d, l) = try p.pump()
        XCTAssertEqual(d, [.data(stream: 1, Array("world".utf8)), .finished(stream: 1)])
        XCTAssertEqual(p.listener.openStreamCount, 1, "listener sent FIN but has not received one")
        XCTAssertEqual(p.listener.sendCredit(stream: s), 0, "no sending after FIN")

        p.dialer.finish(stream: s)
        XCTAssertEqual(p.dialer.openStreamCount, 0, "both directions finished: forgotten")
        (d, l) = try p.pump()
        XCTAssertEqual(l, [.finished(stream: 1)])
        XCTAssertEqual(p.listener.openStreamCount, 0)
        XCTAssertFalse(p.listener.isOpen(stream: 1))

        // Listener-opened streams are even.
        XCTAssertEqual(p.listener.open(metadata: []), 2)
        XCTAssertEqual(p.listener.open(metadata: []), 4)
        XCTAssertEqual(p.dialer.open(metadata: []), 3)
        (d, l) = try p.pump()
        XCTAssertEqual(d, [.opened(stream: 2, metadata: []), .opened(stream: 4, metadata: [])])
        XCTAssertEqual(l, [.opened(stream: 3, metadata: [])])
    }

    func testDataWithFinInOneFrameAndEmptyFin() throws {
        var p = try MuxPair()
        let s = try XCTUnwrap(p.dialer.open(metadata: []))
        _ = try p.pump()
        let events = try p.listener.receive(FrameEncoder.encode(.data(stream: s, [1, 2], fin: true)))
        XCTAssertEqual(events, [.data(stream: s, [1, 2]), .finished(stream: s)])
        // DATA after FIN is a violation.
        XCTAssertThrowsError(try p.listener.receive(FrameEncoder.encode(.data(stream: s, [3])))) {
            guard case .protocolViolation? = $0 as? MuxError else { return XCTFail("\($0)") }
        }
    }

    /// `sendConnected` is an empty DATA frame without FIN: the peer hears `.connected`, no bytes,
    /// no credit spent; after our FIN it is not sent.
    func testConnectedSignalCarriesNoBytes() throws {
        var p = try MuxPair()
        let s = try XCTUnwrap(p.dialer.open(metadata: []))
        _ = try p.pump()
        let credit = p.dialer.sendCredit(stream: s)
        p.listener.sendConnected(stream: s)
        let (d, _) = try p.pump()
        XCTAssertEqual(d, [.connected(stream: s)])
        XCTAssertEqual(p.dialer.sendCredit(stream: s), credit)
        XCTAssertEqual(p.listener.send(stream: s, [7, 8]), 2)
        p.listener.finish(stream: s)
        p.listener.sendConnected(stream: s)
        let (after, _) = try p.pump()
        XCTAssertEqual(after, [.data(stream: s, [7, 8]), .finished(stream: s)])
    }

    func testLargeSendIsSplitIntoMaxDataFrames() throws {
        var cfg = MuxConfig()
        cfg.maxDataFrame = 1000
        var p = try MuxPair(config: cfg)
        let s = try XCTUnwrap(p.dialer.open(metadata: []))
        _ = try p.pump()
        let payload = bytes(3500)
        XCTAssertEqual(p.dialer.send(stream: s, payload), 3500)
        let frames = try decodeAll(p.dialer.takeOutbound())
        XCTAssertEqual(frames.map(\.payload.count), [1000, 1000, 1000, 500])
        XCTAssertTrue(frames.allSatisfy { $0.type == .data && $0.stream == s && !$0.isFin })
        XCTAssertEqual(frames.flatMap(\.payload), payload)
    }

    func testFlowControlStopsAtWindowAndResumesAfterConsumed() throws {
        var cfg = MuxConfig()
        cfg.initialWindow = 4000
        cfg.maxDataFrame = 1500
        var p = try MuxPair(config: cfg)
        let s = try XCTUnwrap(p.dialer.open(metadata: []))
        _ = try p.pump()

        let payload = bytes(10_000)
        XCTAssertEqual(p.dialer.sendCredit(stream: s), 4000)
        var sent = p.dialer.send(stream: s, payload)
        XCTAssertEqual(sent, 4000, "cut at the window")
        XCTAssertEqual(p.dialer.sendCredit(stream: s), 0)
        XCTAssertEqual(p.dialer.send(stream: s, payload[sent...].withUnsafeBytes { Array($0) }), 0)

        var (d, l) = try p.pump()
        XCTAssertEqual(received(l, stream: s), Array(payload[0 ..< 4000]))
        XCTAssertEqual(d, [])

        // Consuming less than initialWindow/4 (=1000) announces nothing.
        p.listener.consumed(stream: s, count: 999)
        XCTAssertEqual(p.listener.outboundCount, 0)
        p.listener.consumed(stream: s, count: 1)
        let window = try decodeAll(p.listener.takeOutbound())
        XCTAssertEqual(window, [.window(stream: s, increment: 1000)])
        d = try p.dialer.receive(FrameEncoder.encode(window[0]))
        XCTAssertEqual(d, [.writable(stream: s)])
        XCTAssertEqual(p.dialer.sendCredit(stream: s), 1000)

        // Deliver the rest, consuming as the app would, until done.
        var got = received(l, stream: s)
        var rounds = 0
        while sent < payload.count {
            let n = payload[sent...].withUnsafeBytes { p.dialer.send(stream: s, $0) }
            XCTAssertGreaterThan(n, 0)
            sent += n
            (d, l) = try p.pump()
            let chunk = received(l, stream: s)
            got += chunk
            p.listener.consumed(stream: s, count: 3000) // more than received: clamped
            (d, _) = try p.pump()
            if sent < payload.count { XCTAssertEqual(d, [.writable(stream: s)]) }
            rounds += 1
            XCTAssertLessThan(rounds, 50)
        }
        XCTAssertEqual(got, payload)
        // Window never exceeds the initial window, however much the app claims to consume.
        XCTAssertLessThanOrEqual(p.dialer.sendCredit(stream: s), 4000)
    }

    func testWindowViolationClosesConnection() throws {
        var cfg = MuxConfig()
        cfg.initialWindow = 100
        var listener = StreamMux(role: .listener, config: cfg)
        var wire = helloBytes()
        FrameEncoder.append(.open(stream: 1, metadata: []), to: &wire)
        FrameEncoder.append(.data(stream: 1, bytes(60)), to: &wire)
        FrameEncoder.append(.data(stream: 1, bytes(40)), to: &wire)
        XCTAssertEqual(try listener.receive(wire).count, 4)
        XCTAssertThrowsError(try listener.receive(FrameEncoder.encode(.data(stream: 1, [1])))) {
            XCTAssertEqual($0 as? MuxError, .windowExceeded(stream: 1))
        }
        // Sticky: the connection is dead.
        XCTAssertThrowsError(try listener.receive(FrameEncoder.encode(.ping(1)))) {
            XCTAssertEqual($0 as? MuxError, .windowExceeded(stream: 1))
        }
    }

    func testManyStreamsInterleaved() throws {
        var cfg = MuxConfig()
        cfg.maxDataFrame = 100
        var p = try MuxPair(config: cfg)
        var expectedAtListener: [UInt32: [UInt8]] = [:]
        var expectedAtDialer: [UInt32: [UInt8]] = [:]
        var ids: [UInt32] = []
        for i in 0 ..< 50 {
            let id = try XCTUnwrap(p.dialer.open(metadata: [UInt8(i)]))
            ids.append(id)
        }
        for i in 0 ..< 50 { ids.append(try XCTUnwrap(p.listener.open(metadata: [UInt8(i)]))) }
        XCTAssertEqual(Set(ids).count, 100)
        var (d, l) = try p.pump()
        XCTAssertEqual(d.count, 50)
        XCTAssertEqual(l.count, 50)

        // Several rounds of writes on every stream from both sides, interleaved in one buffer.
        for round in 0 ..< 4 {
            for (k, id) in ids.enumerated() {
                let a = bytes(37 * (k % 7) + 250, seed: UInt8(truncatingIfNeeded: round &+ k))
                let b = bytes(19 * (k % 5) + 130, seed: UInt8(truncatingIfNeeded: round &* 3 &+ k))
                XCTAssertEqual(p.dialer.send(stream: id, a), a.count)
                XCTAssertEqual(p.listener.send(stream: id, b), b.count)
                expectedAtListener[id, default: []] += a
                expectedAtDialer[id, default: []] += b
            }
        }
        for id in ids { p.dialer.finish(stream: id); p.listener.finish(stream: id) }
        (d, l) = try p.pump()
        for id in ids {
            XCTAssertEqual(received(l, stream: id), expectedAtListener[id])
            XCTAssertEqual(received(d, stream: id), expectedAtDialer[id])
            XCTAssertTrue(l.contains(.finished(stream: id)))
            XCTAssertTrue(d.contains(.finished(stream: id)))
        }
        XCTAssertEqual(p.dialer.openStreamCount, 0)
        XCTAssertEqual(p.listener.openStreamCount, 0)
    }

    func testPingIsAnsweredAutomatically() throws {
        var p = try MuxPair()
        p.dialer.ping(0xDEAD_BEEF_0000_0001)
        let toListener = p.dialer.takeOutbound()
        XCTAssertEqual(try p.listener.receive(toListener), [], "plain PING raises no event")
        let answer = try decodeAll(p.listener.takeOutbound())
        XCTAssertEqual(answer, [.ping(0xDEAD_BEEF_0000_0001, ack: true)])
        XCTAssertEqual(try p.dialer.receive(FrameEncoder.encode(answer[0])), [.pong(0xDEAD_BEEF_0000_0001)])
        XCTAssertEqual(p.dialer.outboundCount, 0, "a PING ACK is not answered")
    }

    func testResetForgetsStreamAndLateFramesAreIgnored() throws {
        var p = try MuxPair()
        let s = try XCTUnwrap(p.dialer.open(metadata: []))
        _ = p.dialer.send(stream: s, [1, 2, 3])
        _ = try p.pump()
        XCTAssertEqual(p.listener.openStreamCount, 1)

        // Listener resets; meanwhile the dialer still has data in flight.
        p.listener.reset(stream: s, code: .unreachable, reason: "no route to vm")
        XCTAssertEqual(p.listener.openStreamCount, 0)
        XCTAssertEqual(p.dialer.send(stream: s, [4, 5]), 2)
        p.dialer.finish(stream: s)
        var (d, l) = try p.pump()
        XCTAssertEqual(l, [], "late DATA/FIN for a reset stream are ignored")
        XCTAssertEqual(d, [.reset(stream: s, code: .unreachable, reason: "no route to vm")])
        XCTAssertEqual(p.dialer.openStreamCount, 0)
        XCTAssertEqual(p.dialer.sendCredit(stream: s), 0)
        XCTAssertEqual(p.dialer.send(stream: s, [9]), 0)

        // Dialer-side reset: the listener sees it, and late WINDOW/DATA from it are ignored.
        let s2 = try XCTUnwrap(p.dialer.open(metadata: []))
        _ = try p.pump()
        p.dialer.reset(stream: s2, code: .cancelled, reason: "")
        XCTAssertEqual(try p.dialer.receive(FrameEncoder.encode(.data(stream: s2, [1]))), [])
        XCTAssertEqual(try p.dialer.receive(FrameEncoder.encode(.window(stream: s2, increment: 5))), [])
        XCTAssertEqual(try p.dialer.receive(FrameEncoder.encode(.reset(stream: s2, code: .cancelled, reason: ""))), [])
        (d, l) = try p.pump()
        XCTAssertEqual(l, [.reset(stream: s2, code: .cancelled, reason: "")])
        XCTAssertEqual(p.listener.openStreamCount, 0)

        // Unknown reset codes keep their raw value.
        let s3 = try XCTUnwrap(p.dialer.open(metadata: []))
        _ = try p.pump()
        p.listener.reset(stream: s3, code: ResetCode(rawValue: 4242), reason: "custom")
        (d, _) = try p.pump()
        XCTAssertEqual(d, [.reset(stream: s3, code: ResetCode(rawValue: 4242), reason: "custom")])
    }

    func testStreamRuleViolations() throws {
        func listenerAfter(_ frames: [Frame]) -> MuxError? {
            var m = StreamMux(role: .listener)
            var wire = helloBytes()
            for f in frames { FrameEncoder.append(f, to: &wire) }
            do { _ = try m.receive(wire); return nil } catch { return error }
        }
        func isViolation(_ e: MuxError?) -> Bool {
            if case .protocolViolation? = e { return true } else { return false }
        }
        // Dialer must open odd ids: even id from the dialer has the listener's parity.
        XCTAssertTrue(isViolation(listenerAfter([.open(stream: 2, metadata: [])])))
        // Reused id.
        XCTAssertTrue(isViolation(listenerAfter([.open(stream: 3, metadata: []), .open(stream: 3, metadata: [])])))
        // Going back to a lower id after closing counts as reuse.
        XCTAssertTrue(isViolation(listenerAfter([.open(stream: 5, metadata: []), .reset(stream: 5, code: .cancelled, reason: ""),
                                                 .open(stream: 3, metadata: [])])))
        // DATA for a never-opened stream of the listener's own parity.
        XCTAssertTrue(isViolation(listenerAfter([.data(stream: 2, [1])])))
        // DATA for a never-opened stream of the peer's parity (no OPEN first).
        XCTAssertTrue(isViolation(listenerAfter([.data(stream: 7, [1])])))
        XCTAssertTrue(isViolation(listenerAfter([.window(stream: 9, increment: 1)])))
        // Second HELLO.
        XCTAssertTrue(isViolation(listenerAfter([.hello(body: [])])))
        // Valid sequence passes.
        XCTAssertNil(listenerAfter([.open(stream: 1, metadata: []), .open(stream: 7, metadata: []), .data(stream: 7, [1])]))
        // Frame errors surface as MuxError.frame.
        XCTAssertEqual(listenerAfter([Frame(type: .window, stream: 1, payload: [0, 0, 0, 0])]),
                       .frame(.malformed("WINDOW increment is 0 on stream 1")))
    }

    func testHelloMustBeFirst() throws {
        var m = StreamMux(role: .listener)
        XCTAssertThrowsError(try m.receive(FrameEncoder.encode(.ping(1)))) {
            guard case .protocolViolation(let why)? = $0 as? MuxError else { return XCTFail("\($0)") }
            XCTAssertTrue(why.contains("HELLO"))
        }
        XCTAssertEqual(m.outboundCount, 0, "nothing answered before HELLO")

        // A version mismatch is reported, not rejected: the roles decide.
        var m2 = StreamMux(role: .listener)
        XCTAssertEqual(try m2.receive(FrameEncoder.encode(.hello(version: 99, body: [1]))), [.hello(version: 99, body: [1])])
        XCTAssertTrue(m2.helloReceived)
    }

    func testDatagramsAndDropWhenOutboundOverLimit() throws {
        var cfg = MuxConfig()
        cfg.datagramQueueLimit = 1000
        var p = try MuxPair(config: cfg)
        XCTAssertTrue(p.dialer.sendDatagram(channel: 0, bytes(100)))
        XCTAssertTrue(p.dialer.sendDatagram(channel: 3, bytes(200)))
        var (_, l) = try p.pump()
        XCTAssertEqual(l, [.datagram(channel: 0, bytes(100)), .datagram(channel: 3, bytes(200))])

        // Fill the outbound buffer with stream data, then datagrams are dropped, not queued.
        let s = try XCTUnwrap(p.dialer.open(metadata: []))
        XCTAssertEqual(p.dialer.send(stream: s, bytes(990)), 990)
        XCTAssertGreaterThan(p.dialer.outboundCount, 990)
        let before = p.dialer.outboundCount
        XCTAssertFalse(p.dialer.sendDatagram(channel: 1, bytes(50)))
        XCTAssertFalse(p.dialer.sendDatagram(channel: 1, bytes(1)))
        XCTAssertEqual(p.dialer.droppedDatagrams, 2)
        XCTAssertEqual(p.dialer.outboundCount, before)

        // Once drained, datagrams flow again.
        (_, l) = try p.pump()
        XCTAssertTrue(p.dialer.sendDatagram(channel: 1, bytes(50)))
        (_, l) = try p.pump()
        XCTAssertEqual(l, [.datagram(channel: 1, bytes(50))])
        XCTAssertEqual(p.dialer.droppedDatagrams, 2)
    }

    func testMaxStreamsLocalAndRemote() throws {
        var cfg = MuxConfig()
        cfg.maxStreams = 2
        var p = try MuxPair(config: cfg)
        XCTAssertNotNil(p.dialer.open(metadata: []))
        XCTAssertNotNil(p.dialer.open(metadata: []))
        XCTAssertNil(p.dialer.open(metadata: []), "local limit")
        _ = try p.pump()
        // The listener is full too; a peer OPEN beyond the limit is refused, not fatal.
        let ev = try p.listener.receive(FrameEncoder.encode(.open(stream: 5, metadata: [])))
        XCTAssertEqual(ev, [])
        XCTAssertEqual(try decodeAll(p.listener.takeOutbound()).first?.codeAndReason?.code, ResetCode.refused.rawValue)
        XCTAssertEqual(p.listener.openStreamCount, 2)
        // DATA the peer sent before seeing the refusal is ignored, not fatal.
        XCTAssertEqual(try p.listener.receive(FrameEncoder.encode(.data(stream: 5, [1, 2]))), [])
        XCTAssertEqual(p.listener.openStreamCount, 2)
    }

    func testNoSpuriousWritableAfterFullSend() throws {
        var cfg = MuxConfig()
        cfg.initialWindow = 100
        var p = try MuxPair(config: cfg)
        let s = try XCTUnwrap(p.dialer.open(metadata: []))
        _ = try p.pump()
        XCTAssertEqual(p.dialer.send(stream: s, bytes(60)), 60)
        XCTAssertEqual(p.dialer.send(stream: s, bytes(60)), 40, "cut short")
        var (d, _) = try p.pump()
        p.listener.consumed(stream: s, count: 100)
        (d, _) = try p.pump()
        XCTAssertEqual(d, [.writable(stream: s)])
        XCTAssertEqual(p.dialer.send(stream: s, bytes(30)), 30, "accepted in full")
        (d, _) = try p.pump()
        p.listener.consumed(stream: s, count: 100)
        (d, _) = try p.pump()
        XCTAssertEqual(d, [], "no .writable: the last send was not cut short")
        XCTAssertEqual(p.dialer.sendCredit(stream: s), 100)
    }

    func testReceiveIsIndependentOfReadBoundaries() throws {
        var sender = StreamMux(role: .dialer, config: MuxConfig(initialWindow: 10_000, maxDataFrame: 333))
        sender.sendHello(body: [1, 2, 3])
        sender.sendControl([4])
        for k in 0 ..< 5 {
            let s = try XCTUnwrap(sender.open(metadata: [UInt8(k)]))
            _ = sender.send(stream: s, bytes(1000 + k * 17, seed: UInt8(k)))
            sender.sendDatagram(channel: UInt32(k), bytes(k * 10))
            if k % 2 == 0 { sender.finish(stream: s) }
        }
        sender.ping(99)
        let wire = sender.takeOutbound()

        var whole = StreamMux(role: .listener, config: MuxConfig(initialWindow: 10_000))
        let expected = try whole.receive(wire)
        var byByte = StreamMux(role: .listener, config: MuxConfig(initialWindow: 10_000))
        var got: [MuxEvent] = []
        for b in wire { got += try byByte.receive([b]) }
        // A DATA frame split across reads comes out in pieces (each a view of the read it arrived
        // in); joined, they are the same bytes in the same order, between the same other events.
        XCTAssertEqual(joiningData(got), joiningData(expected))
        XCTAssertGreaterThan(got.count, expected.count, "split frames were delivered in pieces")
        XCTAssertEqual(byByte.takeOutbound(), whole.takeOutbound()) // the PING ACK
        var dataEvents = 0
        for case .data in expected { dataEvents += 1 }
        var frames = 0
        for k in 0 ..< 5 { frames += (1000 + k * 17 + 332) / 333 }
        XCTAssertEqual(dataEvents, frames)
    }

    func testGoawayAndControl() throws {
        var p = try MuxPair()
        p.listener.sendControl(Array(#"{"type":"ready"}"#.utf8))
        p.listener.goaway(code: 6, reason: "share ended")
        let (d, _) = try p.pump()
        XCTAssertEqual(d, [.control(Array(#"{"type":"ready"}"#.utf8)), .goaway(code: 6, reason: "share ended")])
        XCTAssertNil(p.dialer.open(metadata: []), "no new streams after GOAWAY")
    }

    func testSwapOutboundRecyclesBuffers() throws {
        var m = StreamMux(role: .dialer)
        m.ping(1)
        var buf: [UInt8] = [9, 9, 9]
        m.swapOutbound(&buf)
        XCTAssertEqual(try decodeAll(buf), [.ping(1)])
        XCTAssertEqual(m.outboundCount, 0)
    }
}
