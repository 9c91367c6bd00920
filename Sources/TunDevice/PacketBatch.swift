/// A caller-owned set of fixed-size packet buffers, reused for every read and write so the
/// packet path allocates nothing (wireguard-go's `bufs [][]byte, sizes []int`, in one block).
///
/// `headroom` bytes at the start of every buffer stay free: a reader gets each packet at
/// `packet(i)` with room in front to prepend a frame header without copying, and a writer
/// puts packets at the same place. Not thread-safe: one event loop owns a batch.
public final class PacketBatch {
    /// How many packets the batch holds.
    public let capacity: Int
    /// Bytes per buffer, headroom included.
    public let bufferSize: Int
    /// Bytes kept free in front of each packet.
    public let headroom: Int
    /// The largest packet a buffer holds.
    public var maxPacketSize: Int { bufferSize - headroom }

    /// Valid packets: after a read, how many were read; before a write, how many to write.
    public var count = 0
    /// Packet lengths (excluding headroom), `capacity` entries; entries below `count` are valid.
    public var sizes: [Int]

    private let storage: UnsafeMutableRawPointer

    /// `maxPacketSize` must be at least the interface MTU: the TUN driver does not split a
    /// packet across reads, and one larger than the buffer would be lost.
    public init(capacity: Int, maxPacketSize: Int, headroom: Int = 0) {
        precondition(capacity > 0 && maxPacketSize > 0 && headroom >= 0)
        self.capacity = capacity
        self.headroom = headroom
        self.bufferSize = maxPacketSize + headroom
        self.sizes = Array(repeating: 0, count: capacity)
        self.storage = .allocate(byteCount: capacity * bufferSize, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// The whole buffer `i`, headroom included.
    public func buffer(_ i: Int) -> UnsafeMutableRawBufferPointer {
        precondition(i >= 0 && i < capacity)
        return UnsafeMutableRawBufferPointer(start: storage + i * bufferSize, count: bufferSize)
    }

    /// Room for packet `i`: the buffer after the headroom.
    public func packetSpace(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: buffer(i)[headroom...])
    }

    /// Packet `i` as last read or set: `sizes[i]` bytes after the headroom.
    public func packet(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: packetSpace(i)[..<sizes[i]])
    }

    /// Copies `bytes` in as the next packet; false when the batch is full or the packet too large.
    @discardableResult
    public func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard count < capacity, bytes.count <= maxPacketSize else { return false }
        if let base = bytes.baseAddress { packetSpace(count).baseAddress!.copyMemory(from: base, byteCount: bytes.count) }
        sizes[count] = bytes.count
        count += 1
        return true
    }

    public func removeAll() { count = 0 }
}
