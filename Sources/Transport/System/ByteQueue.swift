/// A FIFO of bytes: append at the back, consume from the front, without shifting on every consume.
public struct ByteQueue {
    private var storage: [UInt8] = []
    private var head = 0
    /// Capacity kept when the queue drains. A queue that once held a burst (a slow reader's
    /// window) gives the memory back instead of keeping it for the connection's whole life;
    /// one that stays small reuses its storage.
    private let retainedCapacity: Int

    public init(retainedCapacity: Int = 256 << 10) { self.retainedCapacity = retainedCapacity }

    public var count: Int { storage.count - head }
    public var isEmpty: Bool { head == storage.count }
    /// Bytes of storage allocated now (what a drained queue keeps or gives back).
    var capacity: Int { storage.capacity }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthIt()
        storage.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        compactIfWorthIt()
        storage.append(contentsOf: bytes)
    }

    /// Lends the unread bytes; returns how many `body` consumed.
    public mutating func consume(_ body: (UnsafeRawBufferPointer) throws -> Int) rethrows -> Int {
        let used = try storage.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[head...]))
        }
        head += used
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= retainedCapacity)
            head = 0
        }
        return used
    }

    public mutating func removeAll() { storage.removeAll(); head = 0 }

    /// Drops consumed bytes once they are the larger part of the storage (amortised O(1)).
    private mutating func compactIfWorthIt() {
        if head > 0 && head >= storage.count / 2 {
            storage.removeSubrange(0..<head)
            head = 0
        }
    }
}
