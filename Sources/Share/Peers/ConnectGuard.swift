/// The share agent's count of failed connect attempts — a pairing that got as far as testing a
/// code and did not finish (`EndToEndHandshake.countsAsGuess`). Each is one online guess at the
/// connect code, whoever made it (a peer with a typo, a stranger, the relay). After `maxFailures`
/// the agent refuses connect sessions for `pause` seconds, then counts afresh. A successful pairing
/// does not reset the count: a guesser could otherwise hide behind a legitimate peer's logins.
/// Pure: the caller passes the time.
struct ConnectGuard: Equatable {
    static let maxFailures = 10
    static let pause = 600.0

    private(set) var failures = 0
    private(set) var pausedUntil: Double?

    enum Outcome: Equatable {
        /// `count` failures so far, below the limit.
        case counted(Int)
        /// This failure reached the limit: connect is paused until then.
        case paused(until: Double)
    }

    /// Whether connect is paused at `now`. A pause that has run out is lifted here.
    mutating func isPaused(now: Double) -> Bool {
        guard let until = pausedUntil else { return false }
        if now < until { return true }
        pausedUntil = nil
        failures = 0
        return false
    }

    mutating func recordFailure(now: Double) -> Outcome {
        if isPaused(now: now), let pausedUntil { return .paused(until: pausedUntil) }
        failures += 1
        guard failures >= Self.maxFailures else { return .counted(failures) }
        pausedUntil = now + Self.pause
        return .paused(until: now + Self.pause)
    }

    /// Whole seconds (rounded up) until connect is open again; 0 when not paused.
    func secondsLeft(now: Double) -> Int {
        guard let until = pausedUntil, until > now else { return 0 }
        return Int((until - now).rounded(.up))
    }
}
