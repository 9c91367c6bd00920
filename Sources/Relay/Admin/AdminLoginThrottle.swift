import Transport

/// Failed sign-ins (form or bearer) per client address: after `maxFailures` in a window the
/// address must wait before it may try again, so the token cannot be guessed online. The same
/// table as the relay's name-guessing limiter, with a stricter policy.
final class AdminLoginThrottle: @unchecked Sendable {
    static let maxFailures = 10
    static let wait: Double = 300
    private let failures: GuessLimiter

    init() {
        // The limiter refuses once misses exceed `refuseAfter`: the 10th failure starts the wait.
        failures = GuessLimiter(limits: GuessLimiter.Limits(freeMisses: Self.maxFailures - 1, refuseAfter: Self.maxFailures - 1,
                                                            window: 600, refusal: Self.wait, baseDelay: 0))
    }

    func isBlocked(_ client: String, now: Double = MonotonicClock.now()) -> Bool { failures.isRefused(client, now: now) }

    func recordFailure(_ client: String, now: Double = MonotonicClock.now()) { _ = failures.recordMiss(client, now: now) }
}
