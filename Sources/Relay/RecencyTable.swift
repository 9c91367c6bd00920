/// A map with a fixed capacity that forgets its least recently used entry to make room, in O(1):
/// entries live in one array, linked most- to least-recent by indices (an intrusive list), so a
/// lookup, a touch and an eviction each move a few indices — no scan, however full the table is.
/// It backs tables that strangers fill (one entry per client address), which must stay bounded
/// and must never pause the loops holding their lock. Not thread-safe: its owner locks.
struct RecencyTable<Key: Hashable, Value> {
    private struct Node {
        var key: Key
        var value: Value
        var newer: Int32   // towards the most recent entry (-1: this is it)
        var older: Int32   // towards the least recent entry (-1: this is it)
    }

    let capacity: Int
    private var nodes: [Node] = []
    private var index: [Key: Int32] = [:]
    private var newest: Int32 = -1
    private var oldest: Int32 = -1

    init(capacity: Int) {
        precondition(capacity > 0 && capacity < Int(Int32.max))
        self.capacity = capacity
    }

    var count: Int { nodes.count }

    /// The entry for `key`, made the most recent; with `create`, a new entry (evicting the least
    /// recent one when full) when there is none.
    mutating func touch<R>(_ key: Key, create: () -> Value, _ body: (inout Value) -> R) -> R {
        let slot: Int32
        if let found = index[key] {
            slot = found
            unlink(slot)
        } else if nodes.count < capacity {
            slot = Int32(nodes.count)
            nodes.append(Node(key: key, value: create(), newer: -1, older: -1))
            index[key] = slot
        } else {
            slot = oldest
            unlink(slot)
            index[nodes[Int(slot)].key] = nil
            nodes[Int(slot)].key = key
            nodes[Int(slot)].value = create()
            index[key] = slot
        }
        linkAsNewest(slot)
        return body(&nodes[Int(slot)].value)
    }

    /// The value for `key` if present, made the most recent.
    mutating func touchIfPresent<R>(_ key: Key, _ body: (inout Value) -> R) -> R? {
        guard let slot = index[key] else { return nil }
        unlink(slot)
        linkAsNewest(slot)
        return body(&nodes[Int(slot)].value)
    }

    /// Keys from the most to the least recent (for tests).
    var keysByRecency: [Key] {
        var keys: [Key] = []
        var slot = newest
        while slot >= 0 { keys.append(nodes[Int(slot)].key); slot = nodes[Int(slot)].older }
        return keys
    }

    private mutating func unlink(_ slot: Int32) {
        let node = nodes[Int(slot)]
        if node.newer >= 0 { nodes[Int(node.newer)].older = node.older } else { newest = node.older }
        if node.older >= 0 { nodes[Int(node.older)].newer = node.newer } else { oldest = node.newer }
    }

    private mutating func linkAsNewest(_ slot: Int32) {
        nodes[Int(slot)].newer = -1
        nodes[Int(slot)].older = newest
        if newest >= 0 { nodes[Int(newest)].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}
