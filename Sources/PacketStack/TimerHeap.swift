/// A binary min-heap of (deadline, flow). Entries are lazy: a flow registers a deadline only
/// when its earliest timer moves earlier than what it already has in the heap; when an entry
/// comes due the stack checks the flow's real timers and re-registers. So restarting a timer
/// later (every ACK restarts the RTO) costs nothing.
struct TimerHeap {
    private(set) var items: [(deadline: Double, flow: FlowID)] = []

    var first: (deadline: Double, flow: FlowID)? { items.first }
    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ deadline: Double, _ flow: FlowID) {
        items.append((deadline, flow))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].deadline < items[parent].deadline else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    @discardableResult
    mutating func pop() -> (deadline: Double, flow: FlowID)? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l].deadline < items[m].deadline { m = l }
                if r < items.count && items[r].deadline < items[m].deadline { m = r }
                guard m != i else { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}

/// A flow's identity: peer address and port, machine port (protocol is per table).
struct FlowKey: Hashable {
    var peer: UInt32
    var peerPort: UInt16
    var port: UInt16
}
