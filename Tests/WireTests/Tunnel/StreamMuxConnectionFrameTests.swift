import XCTest
@testable import Wire

/// Frames that belong to the connection, not a stream: PING, GOAWAY, CONTROL and DATAGRAM.
final class StreamMuxConnectionFrameTests: XCTestCase {
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

    func testGoawayAndControl() throws {
        var p = try MuxPair()
        p.listener.sendControl(Array(#"{"type":"ready"}"#.utf8))
        p.listener.goaway(code: 6, reason: "share ended")
        let (d, _) = try p.pump()
        XCTAssertEqual(d, [.control(Array(#"{"type":"ready"}"#.utf8)), .goaway(code: 6, reason: "share ended")])
        XCTAssertNil(p.dialer.open(metadata: []), "no new streams after GOAWAY")
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
}
