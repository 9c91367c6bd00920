import Synchronization
import Transport
import Wire

/// Counts misses (requests for unknown share names, wrong passwords) per client address, and
/// slows, then refuses, a client that is guessing. Thread-safe: every loop consults the same table.
///
/// Each client has a leaky bucket: a miss adds one, and the bucket drains `refuseAfter` misses
/// per `window`, continuously. Unlike a window that starts afresh, nothing resets it: a client
/// pacing its guesses one at a time fills it as surely as one guessing in bursts, and over any
/// `window` gets about `refuseAfter` misses, then `refusal` of nothing. IPv6 clients are counted
/// by /64 (one host's usual allocation), and each /48 (one site's) also has a bucket holding
/// `prefix48Factor` times as much; a relay-wide bucket (`relayMisses`) bounds a guess spread over
/// many addresses. The table is a `RecencyTable`: bounded, least recently seen forgotten first.
public final class GuessLimiter: @unchecked Sendable {
    public struct Limits: Sendable {
        /// Misses in the bucket before answers slow down.
        public var freeMisses = 10
        /// Misses in the bucket after which the client is refused; the bucket drains this many per `window`.
        public var refuseAfter = 30
        public var window: Double = 600
        /// How long a refused client stays refused.
        public var refusal: Double = 600
        /// Delay added per miss beyond `freeMisses`, doubling, capped at `maxDelay`.
        public var baseDelay: Double = 0.1
        public var maxDelay: Double = 5
        /// An IPv6 /48's bucket holds this many times a /64's.
        public var prefix48Factor = 4
        /// Misses per `window` from all clients together; beyond it each miss refuses its client
        /// at once. Nil: no relay-wide budget (limiters keyed by something other than addresses).
        public var relayMisses: Int? = 3_000
        /// Clients remembered at most.
        public var capacity = 65_536
        public init() {}

        public init(freeMisses: Int, refuseAfter: Int, window: Double, refusal: Double, baseDelay: Double) {
            self.freeMisses = freeMisses
            self.refuseAfter = refuseAfter
            self.window = window
            self.refusal = refusal
            self.baseDelay = baseDelay
            relayMisses = nil
        }
    }

    public enum Verdict: Equatable { case allow, delay(Double), refuse }

    /// Who a bucket belongs to: an IPv4 address, an IPv6 /64 or /48, or any other text (a share name).
    enum Key: Hashable {
        case address(IPAddress)
        case prefix48(UInt64)
        case name(String)
    }

    private struct Bucket {
        var level = 0.0
        var updated: Double
        var refusedUntil = 0.0

        /// Drains what `rate` took out since the last update.
        mutating func drain(now: Double, rate: Double) {
            if now > updated { level = max(0, level - (now - updated) * rate) }
            updated = max(updated, now)
        }
    }

    private let limits: Limits
    private let lock = Lock()
    private var table: RecencyTable<Key, Bucket>
    private var relayBucket = Bucket(updated: 0)
    private let refusals = Atomic<Int>(0)

    public init(limits: Limits) {
        self.limits = limits
        table = RecencyTable(capacity: limits.capacity)
    }

    /// Requests refused so far (clients that were refused, and misses that refused them), for metrics.
    public var refusedCount: Int { refusals.load(ordering: .relaxed) }

    /// Whether `client` may be served at all right now (a refused answer is counted).
    public func isRefused(_ client: String, now: Double = MonotonicClock.now()) -> Bool {
        let keys = Self.keys(for: client)
        let refused = lock.withLock {
            keys.contains { key in table.touchIfPresent(key) { $0.refusedUntil > now } ?? false }
        }
        if refused { refusals.add(1, ordering: .relaxed) }
        return refused
    }

    /// Records one miss and says how to answer it: the harsher of the client's buckets' verdicts.
    public func recordMiss(_ client: String, now: Double = MonotonicClock.now()) -> Verdict {
        let keys = Self.keys(for: client)
        let verdict = lock.withLock { () -> Verdict in
            if keys.contains(where: { table.touchIfPresent($0) { $0.refusedUntil > now } ?? false }) { return .refuse }
            let overBudget = spendRelayBudget(now: now)
            var verdict = Verdict.allow
            for (i, key) in keys.enumerated() {
                let scale = i == 0 ? 1 : limits.prefix48Factor
                let one = table.touch(key, create: { Bucket(updated: now) }) { bucket in
                    add(to: &bucket, scale: scale, refuse: overBudget, now: now)
                }
                verdict = Self.harsher(verdict, one)
            }
            return verdict
        }
        if verdict == .refuse { refusals.add(1, ordering: .relaxed) }
        return verdict
    }

    /// One miss in one bucket, whose limits are `scale` times the client's.
    private func add(to bucket: inout Bucket, scale: Int, refuse: Bool, now: Double) -> Verdict {
        let refuseAfter = limits.refuseAfter * scale, free = limits.freeMisses * scale
        bucket.drain(now: now, rate: Double(refuseAfter) / limits.window)
        bucket.level += 1
        // A bucket a whisker past a whole number counts that miss: 10.3 misses are the 11th.
        let misses = Int(bucket.level.rounded(.up))
        if refuse || misses > refuseAfter {
            bucket.refusedUntil = now + limits.refusal
            return .refuse
        }
        guard misses > free else { return .allow }
        let excess = misses - free - 1
        return .delay(min(limits.baseDelay * Double(1 << min(excess, 30)), limits.maxDelay))
    }

    /// Counts a miss against the relay-wide budget; true when the budget is spent. A miss beyond
    /// it is not added (the bucket never holds more than the budget), so once guessing stops the
    /// relay serves 404s again within one miss's drain time.
    private func spendRelayBudget(now: Double) -> Bool {
        guard let budget = limits.relayMisses else { return false }
        relayBucket.drain(now: now, rate: Double(budget) / limits.window)
        guard relayBucket.level + 1 <= Double(budget) else { return true }
        relayBucket.level += 1
        return false
    }

    private static func harsher(_ a: Verdict, _ b: Verdict) -> Verdict {
        switch (a, b) {
        case (.refuse, _), (_, .refuse): return .refuse
        case (.delay(let x), .delay(let y)): return .delay(max(x, y))
        case (.delay, _): return a
        default: return b
        }
    }

    /// Who `client` is for per-client limits elsewhere (`PasswordChecker`): its IPv4 address, its
    /// IPv6 /64, or its text.
    static func client(_ client: String) -> AnyHashable { AnyHashable(keys(for: client)[0]) }

    /// The buckets a client's misses go into: its IPv4 address; its IPv6 /64 and /48; or its text.
    static func keys(for client: String) -> [Key] {
        guard let address = IPAddress(client) else { return [.name(client)] }
        if address.isIPv4 { return [.address(address)] }
        return [.address(IPAddress(high: address.high, low: 0)), .prefix48(address.high & ~0xFFFF)]
    }
}
