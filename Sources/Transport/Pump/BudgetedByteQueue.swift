/// A `ByteQueue` whose contents are charged to a `MemoryBudget` (when it has one): every append
/// and consume moves the charge, and `release` gives back what is left when its owner ends.
struct BudgetedByteQueue {
    private var queue: ByteQueue
    private let budget: MemoryBudget?
    private var charged = 0

    /// What a holder keeps once drained: holding is the exception (a reader fell behind), so the
    /// memory goes back rather than staying with every stream that once waited.
    static let retainedCapacity = 16 << 10

    init(budget: MemoryBudget?) {
        self.budget = budget
        queue = ByteQueue(retainedCapacity: Self.retainedCapacity)
    }

    var isEmpty: Bool { queue.isEmpty }
    var count: Int { queue.count }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        queue.append(bytes)
        settle()
    }

    mutating func consume(_ body: (UnsafeRawBufferPointer) -> Int) -> Int {
        let used = queue.consume(body)
        settle()
        return used
    }

    /// Drops what is held and its charge.
    mutating func release() {
        queue.removeAll()
        settle()
    }

    private mutating func settle() {
        guard let budget else { return }
        budget.adjust(by: queue.count - charged)
        charged = queue.count
    }
}
