/// Open connections per client address against a cap: the pure core of `ConnectionQuota`.
public struct AddressCounts: Sendable, Equatable {
    /// Changes apply to new connections (an address over a lowered limit keeps what it has).
    public var limit: Int
    private var counts: [String: Int] = [:]
    /// Connections open from every address together.
    public private(set) var total = 0

    public init(limit: Int) { self.limit = limit }

    /// Counts one more connection from `address`; false (and nothing counted) at the cap.
    public mutating func admit(_ address: String) -> Bool {
        let now = counts[address, default: 0]
        guard now < limit else { return false }
        counts[address] = now + 1
        total += 1
        return true
    }

    /// One connection from `address` closed. An address at zero is forgotten, so the table holds
    /// only addresses with connections open.
    public mutating func release(_ address: String) {
        guard let now = counts[address] else { return }
        counts[address] = now > 1 ? now - 1 : nil
        total -= 1
    }

    public func count(of address: String) -> Int { counts[address, default: 0] }

    /// Addresses with at least one connection open.
    public var addresses: Int { counts.count }
}
