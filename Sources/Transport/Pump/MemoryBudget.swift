import Synchronization

/// Bytes a process holds in buffers on behalf of its peers, counted across all its loops, against
/// one limit. A stream endpoint charges what it holds for a slow reader; once the total is over
/// the limit the tunnel opens no new streams (the relay answers "busy") until readers catch up, so
/// many clients that ask for much and read nothing cost a bounded amount, not a window each.
public final class MemoryBudget: Sendable {
    private let limitBytes: Atomic<Int>
    private let used = Atomic<Int>(0)

    public init(limit: Int) {
        precondition(limit > 0, "MemoryBudget limit must be > 0")
        limitBytes = Atomic(limit)
    }

    public var limit: Int { limitBytes.load(ordering: .relaxed) }

    /// A new limit (the relay's SIGHUP): what is held stays; new work waits until it fits.
    public func setLimit(_ limit: Int) {
        precondition(limit > 0, "MemoryBudget limit must be > 0")
        limitBytes.store(limit, ordering: .relaxed)
    }

    /// Bytes held now.
    public var inUse: Int { used.load(ordering: .relaxed) }

    /// True while the holders are over the limit: take on no new work that could add to it.
    public var isExhausted: Bool { inUse >= limit }

    /// Records `delta` more (positive) or fewer (negative) bytes held.
    public func adjust(by delta: Int) {
        guard delta != 0 else { return }
        used.add(delta, ordering: .relaxed)
    }
}
