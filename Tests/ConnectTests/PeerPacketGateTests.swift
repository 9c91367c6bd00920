import Wire
import XCTest
@testable import Connect

final class PeerPacketGateTests: XCTestCase {
    func testTheGateFiltersForTheTUNAddressAndTheSOCKSSource() {
        let machine = IPv4Address(172, 16, 0, 2)
        let withTun = PeerPacketGate(machine: machine, tunAddress: IPv4Address(172, 16, 0, 1))
        XCTAssertEqual(withTun.filter.machine, machine)
        XCTAssertEqual(withTun.filter.localAddresses, [IPv4Address(172, 16, 0, 1), SOCKS5Server.udpSourceAddress])
        let socksOnly = PeerPacketGate(machine: machine, tunAddress: nil)
        XCTAssertEqual(socksOnly.filter.localAddresses, [SOCKS5Server.udpSourceAddress])
    }

    func testDropsAreCountedAndSummarized() {
        let gate = PeerPacketGate(machine: IPv4Address(172, 16, 0, 2), tunAddress: IPv4Address(172, 16, 0, 1))
        XCTAssertFalse([0x45, 0].withUnsafeBytes { gate.admitsInbound($0) })
        XCTAssertEqual(gate.dropped, 1)
        XCTAssertEqual(gate.summary, "1 packet from the share was dropped: 1 malformed.")
    }
}
