import XCTest
@testable import Share

final class ConnectGuardTests: XCTestCase {
    func testTenFailuresPauseConnectThenItOpensAgain() {
        var guardian = ConnectGuard()
        for n in 1..<ConnectGuard.maxFailures {
            XCTAssertEqual(guardian.recordFailure(now: Double(n)), .counted(n))
            XCTAssertFalse(guardian.isPaused(now: Double(n)))
        }
        XCTAssertEqual(guardian.recordFailure(now: 100), .paused(until: 100 + ConnectGuard.pause))
        XCTAssertTrue(guardian.isPaused(now: 101))
        XCTAssertEqual(guardian.secondsLeft(now: 100.5), Int(ConnectGuard.pause))
        // Failures while paused do not extend the pause.
        XCTAssertEqual(guardian.recordFailure(now: 200), .paused(until: 100 + ConnectGuard.pause))
        XCTAssertFalse(guardian.isPaused(now: 100 + ConnectGuard.pause))
        XCTAssertEqual(guardian.secondsLeft(now: 100 + ConnectGuard.pause), 0)
        // The count starts afresh after the pause.
        XCTAssertEqual(guardian.recordFailure(now: 1000), .counted(1))
    }
}
