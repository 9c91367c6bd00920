/// Outgoing packets, back to back in one growable buffer ([length: UInt32][bytes] each), so
/// queueing a packet allocates nothing once the buffer has grown to its working size.
final class PacketQueue {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var head = 0
    private var tail = 0
    private(set) var packetCount = 0
    /// Bytes of packets queued (without the length prefixes).
    private(set) var byteCount = 0

    init(initialCapacity: Int = 64 * 1024) {
        capacity = initialCapacity
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    var isEmpty: Bool { packetCount == 0 }

    /// Room for one packet of up to `n` bytes; write it, then `commit` its real length.
    func reserve(_ n: Int) -> UnsafeMutableRawBufferPointer {
        let needed = 4 + n
        if tail + needed > capacity {
            if head > 0 {
                let live = tail - head
                if live > 0 { storage.copyMemory(from: storage + head, byteCount: live) }
                head = 0
                tail = live
            }
            if tail + needed > capacity {
                var newCap = capacity * 2
                while newCap < tail + needed { newCap *= 2 }
                let s = UnsafeMutableRawPointer.allocate(byteCount: newCap, alignment: 16)
                s.copyMemory(from: storage, byteCount: tail)
                storage.deallocate()
                storage = s
                capacity = newCap
            }
        }
        return UnsafeMutableRawBufferPointer(start: storage + tail + 4, count: n)
    }

    func commit(_ n: Int) {
        (storage + tail).storeBytes(of: UInt32(n), as: UInt32.self)
        tail += 4 + n
        packetCount += 1
        byteCount += n
    }

    /// Hands packets to `send` in order until it returns false or the queue is empty.
    /// Returns the packets and bytes handed over.
    func drain(_ send: (UnsafeRawBufferPointer) -> Bool) -> (packets: Int, bytes: Int) {
        var packets = 0
        var bytes = 0
        while packetCount > 0 {
            let n = Int((storage + head).loadUnaligned(as: UInt32.self))
            guard send(UnsafeRawBufferPointer(start: storage + head + 4, count: n)) else { break }
            head += 4 + n
            packetCount -= 1
            byteCount -= n
            packets += 1
            bytes += n
        }
        if packetCount == 0 {
            head = 0
            tail = 0
        }
        return (packets, bytes)
    }
}
