import XCTest
import Glibc
import Transport
import Wire
@testable import Relay

final class DataRendezvousTests: XCTestCase {
    private func socket() -> Socket {
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        close(fds[1])
        return Socket(adopting: fds[0])
    }

    func testOnePeerAndOneAgentAreJoinedOnce() {
        let table = DataRendezvous()
        let ticket = table.issue(shareName: "frosty-weasel-0857", now: 0)
        XCTAssertEqual(ticket.count, DataPreamble.ticketLength)
        let first = socket()
        guard case .wait = table.arrive(ticket: ticket, side: .agent, socket: first, now: 1) else { return XCTFail("the first end waits") }
        guard case .join(let partner, let name) = table.arrive(ticket: ticket, side: .peer, socket: socket(), now: 2) else {
            return XCTFail("the second end is joined")
        }
        XCTAssertTrue(partner === first)
        XCTAssertEqual(name, "frosty-weasel-0857")
        // One pair, once.
        guard case .refuse = table.arrive(ticket: ticket, side: .agent, socket: socket(), now: 3) else { return XCTFail("used ticket") }
        XCTAssertEqual(table.count, 0)
    }

    func testTwoConnectionsOfOneSideAreNotJoined() {
        let table = DataRendezvous()
        let ticket = table.issue(shareName: "s", now: 0)
        guard case .wait = table.arrive(ticket: ticket, side: .peer, socket: socket(), now: 1) else { return XCTFail() }
        guard case .refuse = table.arrive(ticket: ticket, side: .peer, socket: socket(), now: 1) else {
            return XCTFail("two peers must not be joined to each other")
        }
    }

    func testUnknownAndExpiredTicketsAreRefusedAndWaitingEndsClosed() {
        let table = DataRendezvous()
        guard case .refuse = table.arrive(ticket: [UInt8](repeating: 1, count: 32), side: .peer, socket: socket(), now: 0) else {
            return XCTFail("unknown ticket")
        }
        let late = table.issue(shareName: "s", now: 0)
        guard case .refuse = table.arrive(ticket: late, side: .peer, socket: socket(), now: DataRendezvous.lifetime + 1) else {
            return XCTFail("expired ticket")
        }
        let ticket = table.issue(shareName: "s", now: 0)
        let waiting = socket()
        guard case .wait = table.arrive(ticket: ticket, side: .agent, socket: waiting, now: 1) else { return XCTFail() }
        XCTAssertEqual(table.sweep(now: DataRendezvous.lifetime + 1), 1)
        XCTAssertFalse(waiting.isOpen)
        XCTAssertEqual(table.count, 0)
    }

    func testTicketsAreRandom() {
        let table = DataRendezvous()
        let tickets = Set((0..<64).map { _ in table.issue(shareName: "s") })
        XCTAssertEqual(tickets.count, 64)
    }
}
