/// A min-heap of deadlines. Cancelled timers stay in the heap and are skipped when they come due.
struct TimerHeap {
    struct Entry { var deadline: Double; var id: UInt64 }
    private var entries: [Entry] = []
    private var actions: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 1

    var nextDeadline: Double? {
        mutating get {
            while let top = entries.first, actions[top.id] == nil { pop() }
            return entries.first?.deadline
        }
    }

    mutating func add(deadline: Double, _ action: @escaping () -> Void) -> UInt64 {
        let id = nextID
        nextID += 1
        actions[id] = action
        entries.append(Entry(deadline: deadline, id: id))
        siftUp(entries.count - 1)
        return id
    }

    mutating func cancel(_ id: UInt64) { actions[id] = nil }

    /// Removes and returns the actions due at `now`, earliest first.
    mutating func popDue(now: Double) -> [() -> Void] {
        var due: [() -> Void] = []
        while let top = entries.first, top.deadline <= now {
            pop()
            if let action = actions.removeValue(forKey: top.id) { due.append(action) }
        }
        return due
    }

    private mutating func pop() {
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        if !entries.isEmpty { siftDown(0) }
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count, entries[right].deadline < entries[smallest].deadline { smallest = right }
            if smallest == parent { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
