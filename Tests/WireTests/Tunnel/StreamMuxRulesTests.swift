import XCTest
@testable import Wire

/// The protocol rules a peer must keep (HELLO first, stream ids, limits) and what breaking them does.
final class StreamMuxRulesTests: XCTestCase {
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
}
