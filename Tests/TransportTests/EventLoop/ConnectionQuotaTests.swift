import Glibc
import XCTest
@testable import Transport

/// A quota follows descriptors: counted at admit, released when the socket closes, whoever closes it.
final class ConnectionQuotaTests: XCTestCase {
    private func socketPair() -> (Socket, Socket) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        return (Socket(adopting: fds[0]), Socket(adopting: fds[1]))
    }

    func testClosingAnAdmittedSocketFreesItsPlace() {
        let quota = ConnectionQuota(limit: 2)
        let (a, b) = socketPair()
        let (c, d) = socketPair()
        XCTAssertTrue(quota.admit(a, address: "x"))
        XCTAssertTrue(quota.admit(c, address: "x"))
        XCTAssertFalse(quota.admit(b, address: "x"))
        XCTAssertEqual(quota.takeRefused(), 1)
        XCTAssertEqual(quota.takeRefused(), 0, "a summary counts each refusal once")
        a.close()
        XCTAssertEqual(quota.count(of: "x"), 1)
        XCTAssertTrue(quota.admit(b, address: "x"))
        b.close(); c.close(); d.close()
        XCTAssertEqual(quota.count(of: "x"), 0)
    }

    /// The relay's SIGHUP: a new cap applies to new connections; an address over it keeps what it has.
    func testANewLimitAppliesToNewConnections() {
        let quota = ConnectionQuota(limit: 2)
        let (a, b) = socketPair()
        let (c, d) = socketPair()
        XCTAssertTrue(quota.admit(a, address: "x"))
        XCTAssertTrue(quota.admit(b, address: "x"))
        quota.setLimit(1)
        XCTAssertEqual(quota.limit, 1)
        XCTAssertFalse(quota.admit(c, address: "x"))
        XCTAssertEqual(quota.openConnections, 2)
        quota.setLimit(3)
        XCTAssertTrue(quota.admit(c, address: "x"))
        XCTAssertEqual(quota.openConnections, 3)
        XCTAssertEqual(quota.refusedTotal, 1)
        a.close(); b.close(); c.close(); d.close()
        XCTAssertEqual(quota.openConnections, 0)
    }

    /// A connection that proved itself (an agent's data connection) leaves the count at once, and
    /// its later close does not release a place twice.
    func testStopCountingFreesThePlaceOnce() {
        let quota = ConnectionQuota(limit: 1)
        let (a, b) = socketPair()
        let (c, d) = socketPair()
        XCTAssertTrue(quota.admit(a, address: "z"))
        XCTAssertFalse(quota.admit(c, address: "z"))
        ConnectionQuota.stopCounting(a)
        XCTAssertEqual(quota.count(of: "z"), 0)
        XCTAssertTrue(quota.admit(c, address: "z"))
        a.close()
        XCTAssertEqual(quota.count(of: "z"), 1, "closing an exempted socket must not free another's place")
        ConnectionQuota.stopCounting(b)   // never counted: nothing happens
        XCTAssertEqual(quota.count(of: "z"), 1)
        b.close(); c.close(); d.close()
        XCTAssertEqual(quota.count(of: "z"), 0)
    }

    func testAMovedDescriptorIsReleasedByItsNewOwner() {
        let quota = ConnectionQuota(limit: 1)
        let (a, b) = socketPair()
        XCTAssertTrue(quota.admit(a, address: "y"))
        let moved = Socket(adopting: a.release())   // as a connection moving to another loop does
        XCTAssertEqual(quota.count(of: "y"), 1)
        moved.close()
        XCTAssertEqual(quota.count(of: "y"), 0)
        b.close()
    }
}
