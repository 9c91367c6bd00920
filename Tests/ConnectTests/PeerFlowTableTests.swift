import XCTest
@testable import Connect

final class PeerFlowTableTests: XCTestCase {
    private func key(_ port: UInt16) -> PeerFlowTable.Key {
        PeerFlowTable.key(kind: 2, localIndex: 0, localPort: port, remotePort: 53)
    }

    func testKeysKeepEveryPartApart() {
        let keys = [PeerFlowTable.key(kind: 1, localIndex: 0, localPort: 1, remotePort: 2),
                    PeerFlowTable.key(kind: 2, localIndex: 0, localPort: 1, remotePort: 2),
                    PeerFlowTable.key(kind: 1, localIndex: 1, localPort: 1, remotePort: 2),
                    PeerFlowTable.key(kind: 1, localIndex: 0, localPort: 2, remotePort: 1),
                    PeerFlowTable.key(kind: 1, localIndex: 0, localPort: 0xFFFF, remotePort: 0xFFFF)]
        XCTAssertEqual(Set(keys).count, keys.count)
    }

    func testAFlowExpiresAfterItsClassesIdleTimeoutAndATouchRenewsIt() {
        var table = PeerFlowTable(capacity: 4)
        let slot = table.open(key(1), as: .udp, now: 0)
        table.open(key(2), as: .icmpEcho, now: 0)
        table.touch(slot, as: .udp, now: 100)
        table.expire(now: 200)
        XCTAssertEqual(table.find(key(1)), slot)
        XCTAssertNil(table.find(key(2)))
        table.expire(now: 100 + PeerFlowClass.udp.idleTimeout + 0.5)
        XCTAssertNil(table.find(key(1)))
        XCTAssertEqual(table.count, 0)
    }

    func testMovingAFlowToAnotherClassGivesItThatClasssTimeout() {
        var table = PeerFlowTable(capacity: 4)
        let slot = table.open(key(1), as: .tcpOpening, now: 0)
        table.touch(slot, as: .tcpEstablished, now: 0)
        table.expire(now: 3600)
        XCTAssertEqual(table.flowClass(of: slot), .tcpEstablished)
        XCTAssertEqual(table.find(key(1)), slot)
    }

    func testAFullTableReusesTheSlotOfTheFlowClosestToExpiring() {
        var table = PeerFlowTable(capacity: 3)
        table.open(key(1), as: .tcpEstablished, now: 0)
        table.open(key(2), as: .udp, now: 1)
        table.open(key(3), as: .icmpEcho, now: 2)   // expires first: 32 s
        table.open(key(4), as: .udp, now: 3)
        XCTAssertEqual(table.count, 3)
        XCTAssertEqual(table.evicted, 1)
        XCTAssertNil(table.find(key(3)))
        table.open(key(5), as: .udp, now: 4)        // then the older UDP flow
        XCTAssertNil(table.find(key(2)))
        XCTAssertNotNil(table.find(key(1)))
        XCTAssertNotNil(table.find(key(4)))
        XCTAssertNotNil(table.find(key(5)))
    }

    func testBothFINsAreNeededAndReopeningForgetsThem() {
        var table = PeerFlowTable(capacity: 2)
        let slot = table.open(key(1), as: .tcpEstablished, now: 0)
        XCTAssertFalse(table.noteFin(slot, outbound: true))
        XCTAssertFalse(table.noteFin(slot, outbound: true))
        table.open(key(1), as: .tcpOpening, now: 1)
        XCTAssertFalse(table.noteFin(slot, outbound: false), "the new connection's first FIN")
        XCTAssertTrue(table.noteFin(slot, outbound: true))
    }
}
