import XCTest
@testable import Wire

/// Per-stream windows: senders stop at the window, resume on WINDOW, and a peer that overruns it
/// loses the connection.
final class StreamMuxFlowControlTests: XCTestCase {
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
}
