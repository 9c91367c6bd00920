/// A binary min-heap of (deadline, value): the project's one timer heap. The event loop keeps its
/// timers in it, and each packet stack its flows' deadlines. Pure and allocation-free once grown.
/// Deadlines are seconds on the monotonic clock; equal deadlines come out in no particular order.
public struct DeadlineHeap<Value> {
    public typealias Entry = (deadline: Double, value: Value)
    @usableFromInline var entries: [Entry] = []

    public init() {}

    @inlinable public var first: Entry? { entries.first }
    @inlinable public var isEmpty: Bool { entries.isEmpty }
    @inlinable public var count: Int { entries.count }

    @inlinable public mutating func push(_ deadline: Double, _ value: Value) {
        entries.append((deadline, value))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    @inlinable @discardableResult public mutating func pop() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count, entries[right].deadline < entries[smallest].deadline { smallest = right }
            if smallest == parent { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
