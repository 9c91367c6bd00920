import Transport

/// Counts requests for unknown share names per client address, and slows, then refuses, a client
/// that is guessing names. Thread-safe: every loop consults the same table.
public final class GuessLimiter: @unchecked Sendable {
    public struct Limits: Sendable {
        /// Misses allowed per window before answers slow down.
        public var freeMisses = 10
        /// Misses per window after which the client is refused.
        public var refuseAfter = 30
        public var window: Double = 60
        /// How long a refused client stays refused.
        public var refusal: Double = 600
        /// Delay added per miss beyond `freeMisses`, doubling, capped at `maxDelay`.
        public var baseDelay: Double = 0.1
        public var maxDelay: Double = 5
        public init() {}

        public init(freeMisses: Int, refuseAfter: Int, window: Double, refusal: Double, baseDelay: Double) {
            self.freeMisses = freeMisses
            self.refuseAfter = refuseAfter
            self.window = window
            self.refusal = refusal
            self.baseDelay = baseDelay
        }
    }

    public enum Verdict: Equatable { case allow, delay(Double), refuse }

    private struct Record { var windowStart: Double; var misses: Int; var refusedUntil: Double }
    private let limits: Limits
    private let lock = Lock()
    private var records: [String: Record] = [:]

    public init(limits: Limits) { self.limits = limits }

    /// Whether `client` may be served at all right now.
    public func isRefused(_ client: String, now: Double = MonotonicClock.now()) -> Bool {
        lock.withLock { (records[client]?.refusedUntil ?? 0) > now }
    }

    /// Records one miss (unknown name) and says how to answer it.
    public func recordMiss(_ client: String, now: Double = MonotonicClock.now()) -> Verdict {
        lock.withLock {
            var record = records[client] ?? Record(windowStart: now, misses: 0, refusedUntil: 0)
            if record.refusedUntil > now { return .refuse }
            if now - record.windowStart > limits.window { record.windowStart = now; record.misses = 0 }
            record.misses += 1
            defer { records[client] = record; pruneIfLarge(now: now) }
            if record.misses > limits.refuseAfter {
                record.refusedUntil = now + limits.refusal
                return .refuse
            }
            if record.misses > limits.freeMisses {
                let excess = Double(record.misses - limits.freeMisses - 1)
                return .delay(min(limits.baseDelay * pow2(excess), limits.maxDelay))
            }
            return .allow
        }
    }

    private func pow2(_ x: Double) -> Double { x >= 30 ? Double(1 << 30) : Double(1 << Int(x)) }

    /// Keeps the table bounded: forget clients whose window and refusal are both over.
    private func pruneIfLarge(now: Double) {
        guard records.count > 100_000 else { return }
        records = records.filter { $0.value.refusedUntil > now || now - $0.value.windowStart <= limits.window }
    }
}
