import XCTest
@testable import Share

final class FlowCapsTests: XCTestCase {
    private final class Session {}

    func testOneSessionCannotTakeEveryFlow() {
        var caps = FlowCaps(total: 10, perSession: 3)
        let first = Session(), second = Session()   // alive, so their identifiers differ
        let a = ObjectIdentifier(first), b = ObjectIdentifier(second)
        XCTAssertEqual((0..<4).map { _ in caps.admit(session: a) }, [true, true, true, false])
        XCTAssertTrue(caps.admit(session: b), "another session has its own allowance")
        caps.release(session: a)
        XCTAssertTrue(caps.admit(session: a))
        XCTAssertEqual(caps.open, 4)
        withExtendedLifetime((first, second)) {}
    }

    func testTheTotalHoldsForPublicClientsAndSessionsAlike() {
        var caps = FlowCaps(total: 2, perSession: 2)
        XCTAssertTrue(caps.admit(session: nil))
        XCTAssertTrue(caps.admit(session: nil))
        let peer = Session()
        XCTAssertFalse(caps.admit(session: ObjectIdentifier(peer)))
        caps.release(session: nil)
        XCTAssertTrue(caps.admit(session: nil))
    }

    func testCapsLeaveHeadroomBelowTheDescriptorLimit() {
        let caps = FlowCaps(descriptorLimit: 1024)
        XCTAssertEqual(caps.total, 1024 - FlowCaps.headroom)
        XCTAssertEqual(caps.perSession, caps.total / 4)
        XCTAssertGreaterThan(FlowCaps(descriptorLimit: 10).total, 0)
    }
}
