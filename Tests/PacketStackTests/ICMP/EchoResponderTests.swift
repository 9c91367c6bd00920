import TestSupport
import Wire
import XCTest
@testable import PacketStack

final class EchoResponderTests: XCTestCase {
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
