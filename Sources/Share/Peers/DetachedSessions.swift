import Identity

/// Peer sessions whose end-to-end link broke, kept for a while under the resume ID the agent gave
/// the peer in its HELLO: a peer that pairs again within the window and names the ID gets the same
/// packet stack back, so its TCP connections through the machine IP carry on. Pure (times are
/// passed in); the agent closes what `expire` and `keep` hand back.
///
/// An ID matches once (`take` removes it) and only before its deadline; IDs are compared in
/// constant time, against every entry, so timing tells nothing about a guess. The table is bounded:
/// beyond `capacity` the oldest entry is handed back to be closed.
struct DetachedSessions<Value> {
    private struct Entry {
        let id: String
        let value: Value
        let deadline: Double
    }

    /// Seconds a detached session waits for its peer.
    let window: Double
    let capacity: Int
    private var entries: [Entry] = []

    init(window: Double, capacity: Int = 64) {
        self.window = window
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// Every session waiting now, oldest first.
    var values: [Value] { entries.map(\.value) }

    /// Keeps `value` under `id` until `now + window`; returns the oldest entry if the table was full.
    mutating func keep(_ value: Value, id: String, now: Double) -> Value? {
        var evicted: Value?
        if entries.count >= capacity { evicted = entries.removeFirst().value }
        entries.append(Entry(id: id, value: value, deadline: now + window))
        return evicted
    }

    /// The session kept under `id`, removed from the table; nil if none matches or it expired.
    mutating func take(id: String, now: Double) -> Value? {
        var found: Int?
        for (index, entry) in entries.enumerated() where SecretToken.equal(entry.id, id) && entry.deadline > now {
            found = index
        }
        return found.map { entries.remove(at: $0).value }
    }

    /// Removes and returns the sessions whose window has passed.
    mutating func expire(now: Double) -> [Value] {
        let gone = entries.filter { $0.deadline <= now }.map(\.value)
        entries.removeAll { $0.deadline <= now }
        return gone
    }

    /// Removes and returns every session (the agent is ending).
    mutating func removeAll() -> [Value] {
        defer { entries.removeAll() }
        return entries.map(\.value)
    }
}
