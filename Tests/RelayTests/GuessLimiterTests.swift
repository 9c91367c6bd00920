import XCTest
@testable import Relay

final class GuessLimiterTests: XCTestCase {
    private func limiter(relayMisses: Int? = nil, capacity: Int = 1000) -> GuessLimiter {
        var limits = GuessLimiter.Limits()
        limits.freeMisses = 3
        limits.refuseAfter = 6
        limits.window = 60
        limits.refusal = 600
        limits.baseDelay = 0.1
        limits.maxDelay = 0.3
        limits.relayMisses = relayMisses
        limits.capacity = capacity
        return GuessLimiter(limits: limits)
    }

    func testFreeMissesThenDoublingDelayThenRefusal() {
        let guard_ = limiter()
        let verdicts = (0..<8).map { _ in guard_.recordMiss("10.0.0.1", now: 100) }
        XCTAssertEqual(verdicts, [.allow, .allow, .allow, .delay(0.1), .delay(0.2), .delay(0.3), .refuse, .refuse])
        XCTAssertTrue(guard_.isRefused("10.0.0.1", now: 101))
        XCTAssertFalse(guard_.isRefused("10.0.0.2", now: 101), "other clients are unaffected")
        XCTAssertEqual(guard_.refusedCount, 3, "two refused misses and one refused connection")
    }

    func testRefusalEndsAfterItsTime() {
        let guard_ = limiter()
        for _ in 0..<7 { _ = guard_.recordMiss("10.0.0.1", now: 100) }
        XCTAssertTrue(guard_.isRefused("10.0.0.1", now: 699))
        XCTAssertFalse(guard_.isRefused("10.0.0.1", now: 701))
        XCTAssertEqual(guard_.recordMiss("10.0.0.1", now: 701), .allow, "the bucket drained while the client was refused")
    }

    func testOldMissesDrainAway() {
        let guard_ = limiter()
        for _ in 0..<3 { XCTAssertEqual(guard_.recordMiss("c", now: 0), .allow) }
        XCTAssertEqual(guard_.recordMiss("c", now: 61), .allow, "a window later the bucket is empty")
    }

    /// The probe that found the old window resetting: one guess at a time, each after the previous
    /// answer (its delay included), must still end in a refusal — and about `refuseAfter` misses
    /// per window is all such a client gets.
    func testOneGuessAtATimeIsStillRefused() {
        let guard_ = limiter()   // 6 per 60 s; delays 0.1, 0.2, 0.3
        var now = 0.0, answered = 0
        while answered < 100 {
            let verdict = guard_.recordMiss("10.0.0.9", now: now)
            if verdict == .refuse { break }
            answered += 1
            if case .delay(let seconds) = verdict { now += seconds }
            now += 1   // the guesser's own round trip
        }
        XCTAssertLessThanOrEqual(answered, 7, "a paced guesser got \(answered) answers before its refusal")
        XCTAssertTrue(guard_.isRefused("10.0.0.9", now: now + 1))

        // A client at the drain rate (one miss per 10 s here) is served, slowly or not, indefinitely.
        let patient = limiter()
        for i in 0..<50 { XCTAssertNotEqual(patient.recordMiss("10.0.0.8", now: Double(i) * 10.5), .refuse, "miss \(i)") }
    }

    func testIPv6IsCountedBySlash64() {
        let guard_ = limiter()
        for i in 0..<7 { _ = guard_.recordMiss("2001:db8:1:2::\(i + 1)", now: 0) }
        XCTAssertTrue(guard_.isRefused("2001:db8:1:2:ffff::9", now: 1), "the whole /64 is one client")
        XCTAssertFalse(guard_.isRefused("2001:db8:1:3::1", now: 1), "the next /64 is another")
        XCTAssertEqual(guard_.recordMiss("2001:db8:1:3::1", now: 1), .allow)
        XCTAssertFalse(guard_.isRefused("::ffff:10.0.0.1", now: 1))
        for _ in 0..<7 { _ = guard_.recordMiss("10.0.0.1", now: 1) }
        XCTAssertTrue(guard_.isRefused("::ffff:10.0.0.1", now: 2), "an IPv4-mapped peer is its IPv4 address")
    }

    func testIPv6Slash48HasItsOwnLargerBucket() {
        let guard_ = limiter()   // a /48 holds 4 × 6 = 24 misses
        var verdicts: [GuessLimiter.Verdict] = []
        for subnet in 0..<25 { verdicts.append(guard_.recordMiss("2001:db8:7:\(subnet)::1", now: 0)) }
        XCTAssertEqual(Array(verdicts.prefix(12)), Array(repeating: GuessLimiter.Verdict.allow, count: 12), "each /64's first miss is free")
        XCTAssertEqual(verdicts.last, .refuse, "the 25th miss from one /48 is too many")
        XCTAssertTrue(guard_.isRefused("2001:db8:7:ffff::5", now: 1), "the whole /48 is refused")
        XCTAssertFalse(guard_.isRefused("2001:db8:8::1", now: 1))
    }

    func testRelayWideBudgetRefusesMissesBeyondIt() {
        let guard_ = limiter(relayMisses: 5)   // 5 per 60 s from everyone
        for i in 0..<5 { XCTAssertEqual(guard_.recordMiss("10.1.0.\(i)", now: 0), .allow) }
        XCTAssertEqual(guard_.recordMiss("10.1.0.99", now: 0), .refuse, "the budget is spent")
        XCTAssertTrue(guard_.isRefused("10.1.0.99", now: 1), "the address whose miss was refused is refused")
        XCTAssertFalse(guard_.isRefused("10.1.0.98", now: 1), "an address that did not miss is served")
        XCTAssertEqual(guard_.recordMiss("10.1.0.98", now: 12.5), .allow, "the budget refills at 5 per 60 s")
    }

    func testTableIsBoundedAndForgetsTheLeastRecentClient() {
        let guard_ = limiter(capacity: 3)
        for _ in 0..<7 { _ = guard_.recordMiss("10.0.0.1", now: 0) }
        _ = guard_.recordMiss("10.0.0.2", now: 0)
        _ = guard_.recordMiss("10.0.0.3", now: 0)
        XCTAssertTrue(guard_.isRefused("10.0.0.1", now: 1), "asking keeps a client recent")
        _ = guard_.recordMiss("10.0.0.4", now: 1)   // evicts 10.0.0.2, the least recent
        XCTAssertTrue(guard_.isRefused("10.0.0.1", now: 1))
        for _ in 0..<3 { XCTAssertEqual(guard_.recordMiss("10.0.0.2", now: 1), .allow, "10.0.0.2 starts afresh") }
    }

    func testRefusedCountIsSafeToReadFromManyThreads() {
        let guard_ = limiter()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for _ in 0..<10 { _ = guard_.recordMiss("10.9.0.\(i)", now: 0) }
        }
        XCTAssertEqual(guard_.refusedCount, 8 * 4, "misses 7-10 of each of 8 clients were refused")
    }
}
