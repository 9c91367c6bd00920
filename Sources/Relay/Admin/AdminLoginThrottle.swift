import Transport

/// Failed sign-ins (form or bearer) per client address: after `maxFailures` in a window the
/// address must wait before it may try again, so the token cannot be guessed online. The same
/// table as the relay's name-guessing limiter, with a stricter policy.
final class AdminLoginThrottle: @unchecked Sendable {
    static let maxFailures = 10
    static let wait: Double = 300
    private let failures: GuessLimiter

    init() {
        failures = GuessLimiter(limits: GuessLimiter.Limits(freeMisses: Self.maxFailures, refuseAfter: Self.maxFailures,
                                                            window: 600, refusal: Self.wait, baseDelay: 0))
    }

    func isBlocked(_ client: String, now: Double = MonotonicClock.now()) -> Bool { failures.isRefused(client, now: now) }

    func recordFailure(_ client: String, now: Double = MonotonicClock.now()) { _ = failures.recordMiss(client, now: now) }
}
