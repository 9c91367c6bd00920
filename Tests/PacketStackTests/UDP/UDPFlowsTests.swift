import TestSupport
import Wire
import XCTest
@testable import PacketStack

final class UDPFlowsTests: XCTestCase {
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
}
