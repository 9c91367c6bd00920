import XCTest
@testable import Relay

final class GuessLimiterTests: XCTestCase {
    private func limiter() -> GuessLimiter {
        var limits = GuessLimiter.Limits()
        limits.freeMisses = 3
        limits.refuseAfter = 6
        limits.window = 60
        limits.refusal = 600
        limits.baseDelay = 0.1
        limits.maxDelay = 0.3
        return GuessLimiter(limits: limits)
    }

    func testFreeMissesThenDoublingDelayThenRefusal() {
        let guard_ = limiter()
        let verdicts = (0..<8).map { _ in guard_.recordMiss("10.0.0.1", now: 100) }
        XCTAssertEqual(verdicts, [.allow, .allow, .allow, .delay(0.1), .delay(0.2), .delay(0.3), .refuse, .refuse])
        XCTAssertTrue(guard_.isRefused("10.0.0.1", now: 101))
        XCTAssertFalse(guard_.isRefused("10.0.0.2", now: 101), "other clients are unaffected")
    }

    func testRefusalEndsAfterItsTime() {
        let guard_ = limiter()
        for _ in 0..<7 { _ = guard_.recordMiss("10.0.0.1", now: 100) }
        XCTAssertTrue(guard_.isRefused("10.0.0.1", now: 699))
        XCTAssertFalse(guard_.isRefused("10.0.0.1", now: 701))
        XCTAssertEqual(guard_.recordMiss("10.0.0.1", now: 701), .allow, "a new window starts clean")
    }

    func testWindowResetsCount() {
        let guard_ = limiter()
        for _ in 0..<3 { XCTAssertEqual(guard_.recordMiss("c", now: 0), .allow) }
        XCTAssertEqual(guard_.recordMiss("c", now: 61), .allow, "misses older than the window no longer count")
    }
}
