import XCTest
@testable import Transport

final class ReconnectBackoffTests: XCTestCase {
    func testDoublesUpToTheCap() {
        var backoff = ReconnectBackoff(first: 1, max: 30)
        XCTAssertEqual((0..<8).map { _ in backoff.take() }, [1, 2, 4, 8, 16, 30, 30, 30])
    }

    func testResetStartsOverAndNextIsWhatTakeReturns() {
        var backoff = ReconnectBackoff(first: 1, max: 30)
        _ = backoff.take()
        _ = backoff.take()
        XCTAssertEqual(backoff.next, 4)
        backoff.reset()
        XCTAssertEqual(backoff.next, 1)
        XCTAssertEqual(backoff.take(), 1)
    }

    func testACapBelowTheFirstDelayIsTheFirstDelay() {
        var backoff = ReconnectBackoff(first: 5, max: 2)
        XCTAssertEqual([backoff.take(), backoff.take()], [5, 5])
    }
}
