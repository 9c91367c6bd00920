import Synchronization

/// A cap on the connections one client address holds open to one port, shared by all loops.
/// A connection is counted from `admit` until its socket closes — on whichever loop, after any
/// number of moves between loops (descriptors move, the count follows the descriptor) — so a
/// client cannot use up the process's descriptors by opening sockets and saying nothing.
public final class ConnectionQuota: Sendable {
    private let counts: Mutex<AddressCounts>
    private let refused = Atomic<Int>(0)
    private let refusedEver = Atomic<Int>(0)

    public init(limit: Int) { counts = Mutex(AddressCounts(limit: limit)) }

    public var limit: Int { counts.withLock { $0.limit } }

    /// A new cap for connections accepted from now on (the relay's SIGHUP).
    public func setLimit(_ limit: Int) { counts.withLock { $0.limit = limit } }

    /// Counts `socket` against its client `address`; false at the cap (the caller closes it).
    public func admit(_ socket: Socket, address: String) -> Bool {
        guard counts.withLock({ $0.admit(address) }) else {
            refused.add(1, ordering: .relaxed)
            refusedEver.add(1, ordering: .relaxed)
            return false
        }
        Self.counted.withLock { $0[socket.fd] = Owner(quota: self, address: address) }
        Self.countedCount.add(1, ordering: .relaxed)
        return true
    }

    /// Connections open from `address` now.
    public func count(of address: String) -> Int { counts.withLock { $0.count(of: address) } }

    /// Connections open now, from every address (for metrics).
    public var openConnections: Int { counts.withLock { $0.total } }

    /// Connections refused since the process started (for metrics).
    public var refusedTotal: Int { refusedEver.load(ordering: .relaxed) }

    /// Connections refused since the last call (for one summary line instead of one per refusal).
    public func takeRefused() -> Int { refused.exchange(0, ordering: .relaxed) }

    /// Stops counting `socket` (a no-op for one never counted): for a connection that has proven it
    /// is not a stranger's, such as a share agent's data connection with a valid ticket. One agent
    /// serves every peer of its share over a data connection each, all from its one address; the cap
    /// is for connections that have proven nothing, so it must not limit how many peers it serves.
    public static func stopCounting(_ socket: Socket) { descriptorClosing(socket.fd) }

    // Which quota each counted descriptor belongs to. `Socket.close` reports every close here
    // before the descriptor is released (so a reused number is never mistaken for the old one).
    private struct Owner: Sendable { let quota: ConnectionQuota; let address: String }
    private static let counted = Mutex<[Int32: Owner]>([:])
    /// Lets processes that count nothing (agents, clients) skip the lock on every close.
    private static let countedCount = Atomic<Int>(0)

    static func descriptorClosing(_ fd: Int32) {
        guard countedCount.load(ordering: .relaxed) > 0,
              let owner = counted.withLock({ $0.removeValue(forKey: fd) }) else { return }
        countedCount.subtract(1, ordering: .relaxed)
        owner.quota.counts.withLock { $0.release(owner.address) }
    }
}
