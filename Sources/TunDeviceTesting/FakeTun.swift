// An in-memory `TunDevice` for tests of what drives a TUN (the connect side's packet pump).
import CShims
import Glibc
import TunDevice

/// Packets "from local programs" are injected and come out of `read(into:)` in order; packets
/// written are recorded, one entry per batched write. `writeRoom` makes the device full (writes
/// take that many more packets, then report EAGAIN) to test backpressure. The fd is an eventfd
/// that is readable exactly while injected packets wait, so an epoll loop sees it like a TUN
/// (it does not report writability: tests call the pump when they give room).
public final class FakeTun: TunDevice {
    public private(set) var fd: Int32
    public let mtu: Int
    /// Packets written, in order.
    public private(set) var written: [[UInt8]] = []
    /// How many packets each call of the batched write took.
    public private(set) var batchWrites: [Int] = []
    /// Packets written one at a time (`write(_ packet:)`).
    public private(set) var singleWrites = 0
    /// How many reads returned packets.
    public private(set) var reads = 0
    /// Packets the device takes before it is full; nil: no limit.
    public var writeRoom: Int?
    private var inbound: [[UInt8]] = []
    private var inboundHead = 0

    public init(mtu: Int = 65535) {
        self.mtu = mtu
        fd = vshare_eventfd()
        precondition(fd >= 0, "eventfd failed")
    }

    deinit { close() }

    public var isOpen: Bool { fd >= 0 }
    /// Packets injected and not read yet.
    public var pendingReads: Int { inbound.count - inboundHead }

    /// As if the kernel routed `packet` into the interface.
    public func inject(_ packet: [UInt8]) {
        precondition(packet.count <= mtu)
        inbound.append(packet)
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }

    public func read(into batch: PacketBatch) throws(TunError) -> Int {
        batch.count = 0
        while batch.count < batch.capacity && inboundHead < inbound.count {
            inbound[inboundHead].withUnsafeBytes { _ = batch.append($0) }
            inboundHead += 1
        }
        if inboundHead == inbound.count {
            inbound.removeAll()
            inboundHead = 0
            var value: UInt64 = 0
            _ = Glibc.read(fd, &value, 8)   // no longer readable
        }
        if batch.count > 0 { reads += 1 }
        return batch.count
    }

    public func write(_ batch: PacketBatch, from start: Int) throws(TunError) -> Int {
        var i = start
        while i < batch.count && take(batch.packet(i)) { i += 1 }
        if i > start { batchWrites.append(i - start) }
        return i - start
    }

    public func write(_ packet: UnsafeRawBufferPointer) throws(TunError) -> Bool {
        guard take(packet) else { return false }
        singleWrites += 1
        return true
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    private func take(_ packet: UnsafeRawBufferPointer) -> Bool {
        if let room = writeRoom {
            guard room > 0 else { return false }
            writeRoom = room - 1
        }
        written.append(Array(packet))
        return true
    }
}
