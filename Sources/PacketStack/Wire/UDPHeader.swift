/// The UDP header (RFC 768). A zero checksum means "none" and is accepted; an emitted
/// checksum that computes to zero is sent as 0xFFFF.
import Wire
public struct UDPHeader: Equatable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Header + payload bytes.
    public var length: Int
    public var checksum: UInt16 = 0

    public init(sourcePort: UInt16, destinationPort: UInt16, payloadLength: Int) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = 8 + payloadLength
    }

    /// `datagram` = UDP header + payload (the IP payload). Trailing bytes beyond `length` are ignored.
    public static func parse(_ datagram: UnsafeRawBufferPointer) throws(WireError) -> UDPHeader {
        guard let p = datagram.baseAddress, datagram.count >= 8 else { throw .truncated }
        let len = Int(loadBE16(p, 4))
        guard len >= 8 else { throw .badLength }
        guard len <= datagram.count else { throw .truncated }
        var h = UDPHeader(sourcePort: loadBE16(p, 0), destinationPort: loadBE16(p, 2), payloadLength: len - 8)
        h.checksum = loadBE16(p, 6)
        return h
    }

    /// The datagram's checksum is absent or correct. `datagram` must be exactly `length` bytes.
    public static func verifyChecksum(_ datagram: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address) -> Bool {
        guard let p = datagram.baseAddress, datagram.count >= 8 else { return false }
        if loadBE16(p, 6) == 0 { return true }
        return Checksum.verify(datagram, initial: Checksum.pseudoHeader(source: source, destination: destination,
                                                                        protocolNumber: IPv4Header.protocolUDP, length: datagram.count))
    }

    /// Writes the 8-byte header; the payload must already follow it at `p + 8`. Fills the checksum.
    public func emit(into p: UnsafeMutableRawPointer, source: IPv4Address, destination: IPv4Address) {
        storeBE16(p, 0, sourcePort)
        storeBE16(p, 2, destinationPort)
        storeBE16(p, 4, UInt16(truncatingIfNeeded: length))
        storeBE16(p, 6, 0)
        let s = Checksum.combine(Checksum.pseudoHeader(source: source, destination: destination,
                                                       protocolNumber: IPv4Header.protocolUDP, length: length),
                                 Checksum.sum(UnsafeRawPointer(p), length))
        let c = Checksum.finish(s)
        storeBE16(p, 6, c == 0 ? 0xFFFF : c)
    }
}

/// Pure builders/views of whole IPv4/UDP packets, for the SOCKS UDP ASSOCIATE path.
public enum UDPPacket {
    public static func build(source: IPv4Address, sourcePort: UInt16, destination: IPv4Address, destinationPort: UInt16,
                             payload: UnsafeRawBufferPointer) -> [UInt8] {
        let total = 28 + payload.count
        return [UInt8](unsafeUninitializedCapacity: total) { buf, initialized in
            let p = UnsafeMutableRawPointer(buf.baseAddress!)
            if payload.count > 0 { (p + 28).copyMemory(from: payload.baseAddress!, byteCount: payload.count) }
            IPv4Header(source: source, destination: destination, protocolNumber: IPv4Header.protocolUDP,
                       payloadLength: 8 + payload.count).emit(into: p)
            UDPHeader(sourcePort: sourcePort, destinationPort: destinationPort, payloadLength: payload.count)
                .emit(into: p + 20, source: source, destination: destination)
            initialized = total
        }
    }

    /// Parses an IPv4/UDP packet (header, lengths, both checksums); nil if it is not one or a fragment.
    public static func parse(_ packet: UnsafeRawBufferPointer) -> (source: IPv4Address, sourcePort: UInt16, destination: IPv4Address,
                                                                   destinationPort: UInt16, payload: Range<Int>)? {
        guard let ip = try? IPv4Header.parse(packet), ip.protocolNumber == IPv4Header.protocolUDP, !ip.isFragment else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: packet[ip.payloadRange])
        guard let udp = try? UDPHeader.parse(body) else { return nil }
        let datagram = UnsafeRawBufferPointer(rebasing: body[0..<udp.length])
        guard UDPHeader.verifyChecksum(datagram, source: ip.source, destination: ip.destination) else { return nil }
        let start = ip.headerLength + 8
        return (ip.source, udp.sourcePort, ip.destination, udp.destinationPort, start..<(ip.headerLength + udp.length))
    }
}
