// The Linux TUN device behind `TunDevice`: open and configure an interface that owns the machine
// IP, then move packets in batches. The event loop that polls `fd` lives elsewhere (Connect).
import CShims
import Glibc
import Wire

/// A layer-3 TUN interface (IFF_TUN|IFF_NO_PI: every read and write is one bare IP packet).
/// The one owner of its file descriptor. The interface is not persistent: closing the fd
/// makes the kernel delete it together with its address and its route.
/// Not thread-safe: one event loop owns a device.
public final class LinuxTun: TunDevice {
    /// The non-blocking descriptor, for epoll registration; -1 after `close()`.
    public private(set) var fd: Int32
    /// The kernel's name for the interface ("vshare0" for the template "vshare%d").
    public let name: String
    public let localAddress: IPv4Address
    public let peerAddress: IPv4Address
    public let mtu: Int
    /// Packets the kernel refused during batch writes (malformed or over the MTU); dropped, not retried.
    public private(set) var rejectedPackets = 0

    private init(fd: Int32, name: String, localAddress: IPv4Address, peerAddress: IPv4Address, mtu: Int) {
        self.fd = fd
        self.name = name
        self.localAddress = localAddress
        self.peerAddress = peerAddress
        self.mtu = mtu
    }

    deinit { close() }

    public var isOpen: Bool { fd >= 0 }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    /// Creates and configures the interface in the calling thread's network namespace:
    /// `localAddress` on our side, `peerAddress` (the machine IP) as the point-to-point peer
    /// with a /32 mask, the MTU, and up. The kernel then routes `peerAddress` into this
    /// interface, so whatever local programs send to the machine IP arrives on `fd`.
    public static func open(name: String = "vshare%d", localAddress: IPv4Address, peerAddress: IPv4Address,
                            mtu: Int = 65535) throws(TunError) -> LinuxTun {
        // IFNAMSIZ is 16 including the terminator.
        guard !name.isEmpty, name.utf8.count < 16, !name.utf8.contains(0) else { throw .invalidName(name) }
        let fd = Glibc.open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw TunError.from("open /dev/net/tun", openingDriver: true) }

        var chosen = [CChar](repeating: 0, count: 16)
        // extraFlags stays 0 until the offload work (IFF_VNET_HDR would put a virtio_net_hdr in
        // front of every packet, and PacketBatch would then need room for it).
        let extraFlags: Int32 = 0
        if vshare_tun_attach(fd, name, extraFlags, &chosen) != 0 {
            let failure = errno
            Glibc.close(fd)
            if failure == EBUSY || failure == EEXIST { throw .nameInUse(name) }
            if failure == EINVAL { throw .invalidName(name) }
            throw TunError.from("TUNSETIFF \(name)", errno: failure)
        }
        let device = LinuxTun(fd: fd, name: String(decoding: chosen.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                                                    as: UTF8.self),
                               localAddress: localAddress, peerAddress: peerAddress, mtu: mtu)
        // On failure `device` is released here and deinit closes the fd, removing the interface.
        try InterfaceControl().configure(device.name, local: localAddress, peer: peerAddress, mtu: mtu)
        return device
    }

    // MARK: Reading

    /// Reads until the kernel has no packet left (EAGAIN) or the batch is full. An error after
    /// some packets were read is reported by the next call.
    @discardableResult
    public func read(into batch: PacketBatch) throws(TunError) -> Int {
        batch.count = 0
        while batch.count < batch.capacity {
            let space = batch.packetSpace(batch.count)
            let n = Glibc.read(fd, space.baseAddress, space.count)
            if n > 0 {
                batch.sizes[batch.count] = n
                batch.count += 1
                continue
            }
            if n == 0 { break }
            let failure = errno
            if failure == EINTR { continue }
            if failure == EAGAIN || failure == EWOULDBLOCK || batch.count > 0 { break }
            throw TunError.from("read \(name)", errno: failure)
        }
        return batch.count
    }

    // MARK: Writing

    /// False when the kernel queue is full (EAGAIN: retry on EPOLLOUT). Throws `.packetRejected`
    /// for a packet the kernel refuses (not IPv4/IPv6, over the MTU).
    public func write(_ packet: UnsafeRawBufferPointer) throws(TunError) -> Bool {
        while true {
            let n = Glibc.write(fd, packet.baseAddress, packet.count)
            if n >= 0 { return true }
            let failure = errno
            switch failure {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return false
            case EINVAL, EMSGSIZE, EFAULT: throw .packetRejected(errno: failure)
            default: throw TunError.from("write \(name)", errno: failure)
            }
        }
    }

    /// One write(2) per packet (a TUN without IFF_VNET_HDR takes one packet per call); packets the
    /// kernel rejects are counted in `rejectedPackets` and skipped.
    public func write(_ batch: PacketBatch, from start: Int = 0) throws(TunError) -> Int {
        var i = start
        while i < batch.count {
            do {
                if try !write(batch.packet(i)) { break }
            } catch .packetRejected {
                rejectedPackets += 1   // one bad packet from the tunnel must not stall the rest
            }
            i += 1
        }
        return i - start
    }
}
