import Console
import XCTest

final class LogRateLimiterTests: XCTestCase {
    func testFirstBurstThenOneSummaryPerInterval() {
        var limiter = LogRateLimiter(burst: 3, interval: 10)
        var printed: [String] = []
        for i in 0..<1000 { printed += limiter.admit("Refused 10.0.0.1", now: Double(i) * 0.005) }
        XCTAssertEqual(printed, Array(repeating: "Refused 10.0.0.1", count: 3), "a flood shows its first lines only")
        printed = limiter.admit("Refused 10.0.0.1", now: 10)
        XCTAssertEqual(printed, ["Refused 10.0.0.1 … repeated 997 times in 10 s"],
                       "the summary comes due with the next line, which it stands for too")
        XCTAssertEqual(limiter.due(now: 20), ["Refused 10.0.0.1 … repeated 1 times in 10 s"])
        XCTAssertEqual(limiter.due(now: 30), [], "a quiet interval: nothing to say, and the kind is forgotten")
        XCTAssertEqual(limiter.admit("Refused 10.0.0.1", now: 31), ["Refused 10.0.0.1"], "after the flood, lines show again")
    }

    func testDifferentLinesAreCountedApart() {
        var limiter = LogRateLimiter(burst: 1, interval: 10)
        XCTAssertEqual(limiter.admit("a", now: 0), ["a"])
        XCTAssertEqual(limiter.admit("b", now: 0), ["b"])
        XCTAssertEqual(limiter.admit("a", now: 1), [])
        XCTAssertEqual(limiter.admit("c", now: 11).sorted(), ["a … repeated 1 times in 11 s", "c"])
    }

    func testAKindGroupsLinesThatDiffer() {
        var limiter = LogRateLimiter(burst: 2, interval: 5)
        var printed: [String] = []
        for i in 0..<10 { printed += limiter.admit("Refused 10.0.0.\(i)", kind: "refused", now: 0) }
        XCTAssertEqual(printed, ["Refused 10.0.0.0", "Refused 10.0.0.1"])
        XCTAssertEqual(limiter.due(now: 5), ["Refused 10.0.0.9 … repeated 8 times in 5 s"], "the summary quotes the last line")
    }

    func testKindsBeyondTheTableAreNotThrottled() {
        var limiter = LogRateLimiter(burst: 1, interval: 10, maxKinds: 2)
        _ = limiter.admit("a", now: 0)
        _ = limiter.admit("b", now: 0)
        XCTAssertEqual(limiter.admit("c", now: 0), ["c"])
        XCTAssertEqual(limiter.admit("c", now: 0), ["c"], "untracked: never held back, never lost")
    }
}
