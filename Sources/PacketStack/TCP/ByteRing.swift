/// A byte ring for one flow's send or receive data. Storage is allocated lazily and grows
/// (doubling, re-linearised) up to `limit`, so an idle flow costs nothing and memory follows
/// what is actually buffered. Bytes `0..<count` from the head are readable; the receive side
/// may also write beyond `count` (out-of-order data, tracked by `extent`) and later `commit`.
final class ByteRing {
    let limit: Int
    private(set) var storage: UnsafeMutableRawPointer? = nil
    private(set) var capacity = 0
    private var head = 0
    private(set) var count = 0
    /// Bytes from the head that hold written data (≥ count).
    private(set) var extent = 0

    init(limit: Int) { self.limit = max(1, limit) }

    deinit { storage?.deallocate() }

    var free: Int { limit - count }

    private func ensureCapacity(_ needed: Int) {
        guard needed > capacity else { return }
        var newCap = max(capacity * 2, 16 * 1024)
        while newCap < needed { newCap *= 2 }
        newCap = min(newCap, limit)
        let newStorage = UnsafeMutableRawPointer.allocate(byteCount: newCap, alignment: 16)
        if let old = storage {
            copyOut(from: 0, count: extent, to: newStorage, base: old)
            old.deallocate()
        }
        storage = newStorage
        capacity = newCap
        head = 0
    }

    private func copyOut(from offset: Int, count n: Int, to dst: UnsafeMutableRawPointer, base: UnsafeMutableRawPointer) {
        guard n > 0 else { return }
        var start = head + offset
        if start >= capacity { start -= capacity }
        let first = min(n, capacity - start)
        dst.copyMemory(from: base + start, byteCount: first)
        if first < n { (dst + first).copyMemory(from: base, byteCount: n - first) }
    }

    /// Copies `bytes` to `offset` bytes after the head (offset + bytes.count ≤ limit).
    func write(at offset: Int, _ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0, let src = bytes.baseAddress else { return }
        precondition(offset >= 0 && offset + n <= limit, "ByteRing write beyond limit")
        ensureCapacity(offset + n)
        let base = storage!
        var start = head + offset
        if start >= capacity { start -= capacity }
        let first = min(n, capacity - start)
        (base + start).copyMemory(from: src, byteCount: first)
        if first < n { base.copyMemory(from: src + first, byteCount: n - first) }
        extent = max(extent, offset + n)
    }

    /// Appends at `count` as many bytes as fit; returns how many. (Send side: no out-of-order data.)
    func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let n = min(bytes.count, limit - count)
        guard n > 0 else { return 0 }
        write(at: count, UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
        count += n
        return n
    }

    /// Makes `n` already written bytes after `count` readable.
    func commit(_ n: Int) {
        precondition(n >= 0 && count + n <= extent, "ByteRing commit beyond written data")
        count += n
    }

    func consume(_ n: Int) {
        precondition(n >= 0 && n <= count, "ByteRing consume beyond count")
        guard n > 0 else { return }
        head += n
        if head >= capacity { head -= capacity }
        count -= n
        extent -= n
        if extent == 0 { head = 0 }
    }

    /// Copies `n` readable bytes starting `offset` after the head to the start of `dst`.
    func copy(from offset: Int, count n: Int, to dst: UnsafeMutableRawBufferPointer) {
        precondition(offset >= 0 && offset + n <= count, "ByteRing copy beyond count")
        precondition(n <= dst.count, "ByteRing copy beyond the destination")
        guard n > 0, let base = storage, let out = dst.baseAddress else { return }
        copyOut(from: offset, count: n, to: out, base: base)
    }

    /// The first contiguous run of readable bytes (empty if none).
    var firstReadable: UnsafeRawBufferPointer {
        guard count > 0, let base = storage else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + head, count: min(count, capacity - head))
    }
}
