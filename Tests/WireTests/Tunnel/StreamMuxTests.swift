import TestSupport
import XCTest
@testable import Wire

/// Streams carrying bytes: open, data, FIN, splitting and interleaving, buffer reuse.
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

    func testSwapOutboundRecyclesBuffers() throws {
        var m = StreamMux(role: .dialer)
        m.ping(1)
        var buf: [UInt8] = [9, 9, 9]
        m.swapOutbound(&buf)
        XCTAssertEqual(try decodeAll(buf), [.ping(1)])
        XCTAssertEqual(m.outboundCount, 0)
    }
}
