import XCTest
@testable import Relay

final class AdminSessionsTests: XCTestCase {
    private let admin = AdminUser(name: "admin", isAdmin: true)

    func testSessionsHaveRandomIdsAndTokens() {
        let sessions = AdminSessions()
        let a = sessions.create(for: admin, now: 0), b = sessions.create(for: admin, now: 0)
        XCTAssertNotEqual(a.id, b.id)
        XCTAssertNotEqual(a.csrfToken, b.csrfToken)
        XCTAssertNotEqual(a.id, a.csrfToken)
        XCTAssertEqual(a.id.count, 48)
        XCTAssertEqual(sessions.lookup(a.id, now: 1), a)
    }

    func testExpiryAndLogout() {
        let sessions = AdminSessions(lifetime: 100)
        let session = sessions.create(for: admin, now: 0)
        XCTAssertNotNil(sessions.lookup(session.id, now: 99))
        XCTAssertNil(sessions.lookup(session.id, now: 100))
        let other = sessions.create(for: admin, now: 0)
        sessions.remove(other.id)
        XCTAssertNil(sessions.lookup(other.id, now: 1))
        XCTAssertNil(sessions.lookup("unknown", now: 1))
    }

    func testCapacityDropsTheOldest() {
        let sessions = AdminSessions(lifetime: 100, capacity: 2)
        let first = sessions.create(for: admin, now: 0)
        let second = sessions.create(for: admin, now: 1)
        let third = sessions.create(for: admin, now: 2)
        XCTAssertNil(sessions.lookup(first.id, now: 3))
        XCTAssertNotNil(sessions.lookup(second.id, now: 3))
        XCTAssertNotNil(sessions.lookup(third.id, now: 3))
    }

    func testCSRFMustMatchItsOwnSession() {
        let sessions = AdminSessions()
        let a = sessions.create(for: admin, now: 0), b = sessions.create(for: admin, now: 0)
        XCTAssertTrue(AdminSessions.csrfMatches(a, a.csrfToken))
        XCTAssertFalse(AdminSessions.csrfMatches(a, b.csrfToken))
        XCTAssertFalse(AdminSessions.csrfMatches(a, ""))
        XCTAssertFalse(AdminSessions.csrfMatches(a, nil))
    }
}
