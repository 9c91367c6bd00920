/// A caller-owned set of fixed-size packet buffers, reused for every read and write so the
/// packet path allocates nothing (wireguard-go's `bufs [][]byte, sizes []int`, in one block).
/// Not thread-safe: one event loop owns a batch.
///
/// No headroom in front of the packets: the tunnel copies each packet into its own framing
/// buffer, so nothing is ever prepended in place (docs/ARCHITECTURE.md, "The TUN interface").
public final class PacketBatch {
    /// How many packets the batch holds.
    public let capacity: Int
    /// The largest packet a buffer holds.
    public let maxPacketSize: Int

    /// Valid packets: after a read, how many were read; before a write, how many to write.
    public var count = 0
    /// Packet lengths, `capacity` entries; entries below `count` are valid.
    public var sizes: [Int]

    private let storage: UnsafeMutableRawBufferPointer

    /// `maxPacketSize` must be at least the device's MTU: the TUN driver does not split a
    /// packet across reads, and one larger than the buffer would be lost.
    public init(capacity: Int, maxPacketSize: Int) {
        precondition(capacity > 0 && maxPacketSize > 0)
        self.capacity = capacity
        self.maxPacketSize = maxPacketSize
        self.sizes = Array(repeating: 0, count: capacity)
        self.storage = .allocate(byteCount: capacity * maxPacketSize, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// Room for packet `i`: its whole buffer.
    public func packetSpace(_ i: Int) -> UnsafeMutableRawBufferPointer {
        precondition(i >= 0 && i < capacity)
        return UnsafeMutableRawBufferPointer(rebasing: storage[(i * maxPacketSize)..<((i + 1) * maxPacketSize)])
    }

    /// Packet `i` as last read or appended: its first `sizes[i]` bytes.
    public func packet(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(packetSpace(i))[..<sizes[i]])
    }

    /// Copies `bytes` in as the next packet; false when the batch is full or the packet too large.
    @discardableResult
    public func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard count < capacity, bytes.count <= maxPacketSize else { return false }
        UnsafeMutableRawBufferPointer(rebasing: packetSpace(count)[..<bytes.count]).copyMemory(from: bytes)
        sizes[count] = bytes.count
        count += 1
        return true
    }
}
