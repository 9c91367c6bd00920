// Records raw IP packets (as read from or written to the TUN) into a pcap file that
// tcpdump and Wireshark open directly: the tool for "what did the tunnel carry?".
import CPcap
import Glibc

public struct PacketCaptureError: Error, CustomStringConvertible, Sendable, Equatable {
    public let path: String
    public let reason: String

    public var description: String {
        "cannot write packet capture \(path): \(reason)"
    }

    /// A failed `open` of the capture file, with what to do about it.
    static func opening(_ path: String, errno: Int32) -> PacketCaptureError {
        switch errno {
        case EEXIST: return PacketCaptureError(path: path, reason: "the file already exists; vshare never overwrites one, so name a new file")
        case ELOOP: return PacketCaptureError(path: path, reason: "it is a symbolic link, which vshare does not follow; name a new file")
        default: return PacketCaptureError(path: path, reason: String(cString: strerror(errno)) + "; choose a writable path")
        }
    }
}

/// A pcap file of bare IP packets (link type RAW: no Ethernet header, as on a TUN).
/// Owns its libpcap handles; `close()` is idempotent and deinit closes. Not thread-safe:
/// one event loop owns a capture file.
public final class PacketCaptureFile {
    public let path: String
    public let snapshotLength: Int
    private var pcap: OpaquePointer?
    private var dumper: OpaquePointer?

    /// Creates `path`, which must not exist yet: a new file (O_EXCL, never a link followed:
    /// O_NOFOLLOW), readable by its owner only (0600), since it holds everything the tunnel
    /// carried. `vshare connect` often runs as root, so a path in a shared directory must not let
    /// another user point it at a file of theirs, or read the capture. Packets longer than
    /// `snapshotLength` are cut to it in the file (their original length is still recorded).
    public init(path: String, snapshotLength: Int = 65535) throws(PacketCaptureError) {
        self.path = path
        self.snapshotLength = snapshotLength
        // A "dead" handle: no capture device, only the link type and snapshot length the file header needs.
        guard let pcap = pcap_open_dead(DLT_RAW, Int32(clamping: snapshotLength)) else {
            throw PacketCaptureError(path: path, reason: "pcap_open_dead failed")
        }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let error = PacketCaptureError.opening(path, errno: errno)
            pcap_close(pcap)
            throw error
        }
        guard let file = fdopen(fd, "w") else {
            let error = PacketCaptureError.opening(path, errno: errno)
            Glibc.close(fd)
            pcap_close(pcap)
            throw error
        }
        // The dumper owns the FILE from here: pcap_dump_close closes it (and the fd).
        guard let dumper = pcap_dump_fopen(pcap, file) else {
            let reason = String(cString: pcap_geterr(pcap))
            fclose(file)
            pcap_close(pcap)
            throw PacketCaptureError(path: path, reason: reason)
        }
        self.pcap = pcap
        self.dumper = dumper
    }

    deinit { close() }

    public var isOpen: Bool { dumper != nil }

    /// Appends one packet; `timestamp` defaults to now. A closed file ignores writes.
    public func write(packet: UnsafeRawBufferPointer, timestamp: timeval? = nil) {
        guard let dumper, let base = packet.baseAddress else { return }
        var header = pcap_pkthdr()
        header.ts = timestamp ?? Self.now()
        header.caplen = UInt32(min(packet.count, snapshotLength))
        header.len = UInt32(clamping: packet.count)
        // pcap_dump takes the dumper as an opaque u_char* "user" argument, as a pcap_handler would.
        pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), &header,
                  base.assumingMemoryBound(to: UInt8.self))
    }

    /// Pushes buffered packets to the file (stdio buffering otherwise holds them back).
    public func flush() throws(PacketCaptureError) {
        guard let dumper else { return }
        if pcap_dump_flush(dumper) != 0 {
            throw PacketCaptureError(path: path, reason: String(cString: strerror(errno)))
        }
    }

    public func close() {
        if let dumper { pcap_dump_close(dumper) }
        if let pcap { pcap_close(pcap) }
        dumper = nil
        pcap = nil
    }

    static func now() -> timeval {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return timeval(tv_sec: ts.tv_sec, tv_usec: ts.tv_nsec / 1000)
    }
}
