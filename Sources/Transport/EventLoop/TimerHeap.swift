import Wire

/// The event loop's timers: deadlines in the shared `DeadlineHeap`, actions by id. A cancelled
/// timer stays in the heap (removing from the middle of a heap is O(n)) and is skipped when due.
struct TimerHeap {
    private var heap = DeadlineHeap<UInt64>()
    private var actions: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 1

    var nextDeadline: Double? {
        mutating get {
            while let top = heap.first, actions[top.value] == nil { heap.pop() }
            return heap.first?.deadline
        }
    }

    mutating func add(deadline: Double, _ action: @escaping () -> Void) -> UInt64 {
        let id = nextID
        nextID += 1
        actions[id] = action
        heap.push(deadline, id)
        return id
    }

    mutating func cancel(_ id: UInt64) { actions[id] = nil }

    /// Removes and returns the actions due at `now`, earliest first.
    mutating func popDue(now: Double) -> [() -> Void] {
        var due: [() -> Void] = []
        while let top = heap.first, top.deadline <= now {
            heap.pop()
            if let action = actions.removeValue(forKey: top.value) { due.append(action) }
        }
        return due
    }
}
