/// How long an agent waits before each new attempt to reach the relay after losing it: `first`,
/// then doubling up to `max`; back to `first` once the relay has taken the agent's request
/// again. A pure value, so the policy is tested without clocks or sockets.
public struct ReconnectBackoff: Equatable, Sendable {
    public let first: Double
    public let max: Double
    /// The delay the next attempt will wait.
    public private(set) var next: Double

    public init(first: Double = 1, max: Double = 30) {
        self.first = first
        self.max = Swift.max(first, max)
        next = first
    }

    /// The delay for this attempt; the one after it is twice as long, up to `max`.
    public mutating func take() -> Double {
        let delay = next
        next = Swift.min(next * 2, max)
        return delay
    }

    /// The relay answered: the next loss starts again from `first`.
    public mutating func reset() {
        next = first
    }
}
