// What the connect side needs from a TUN interface, as a protocol so the packet pump can be
// tested against `FakeTun` (TunDeviceTesting) and a later offload-capable device can slot in.

/// A layer-3 packet device: every read and write is one bare IP packet. Batched like
/// wireguard-go's `tun.Device` (`Read(bufs, sizes)`, `Write(bufs)`), so offloads (IFF_VNET_HDR
/// super-packets split on read, coalesced on write) can come later without changing callers.
/// Not thread-safe: one event loop owns a device.
public protocol TunDevice: AnyObject {
    /// The non-blocking descriptor for epoll: readable when packets wait, writable when a
    /// refused write may be retried. -1 after `close()`.
    var fd: Int32 { get }
    /// The largest packet the device carries; read batches need buffers at least this large.
    var mtu: Int { get }
    var isOpen: Bool { get }

    /// Reads waiting packets into `batch` (setting `count` and `sizes`) until none are left or
    /// the batch is full. Returns the count; 0 means nothing waits (wait for readability).
    func read(into batch: PacketBatch) throws(TunError) -> Int

    /// Writes `batch`'s packets from index `start` on. Returns how many were taken (written, or
    /// refused as malformed and dropped); fewer than `batch.count - start` means the device is
    /// full: resume from `start + result` when the fd is writable.
    func write(_ batch: PacketBatch, from start: Int) throws(TunError) -> Int

    /// Writes one packet without copying it into a batch. False when the device is full.
    /// Throws `.packetRejected` for a packet the device refuses.
    func write(_ packet: UnsafeRawBufferPointer) throws(TunError) -> Bool

    /// Idempotent; the device and (for a kernel interface) its address and route go away.
    func close()
}
