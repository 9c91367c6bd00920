// Whole IPv4/UDP packets, for the SOCKS UDP ASSOCIATE path (datagrams in and out of packets).

public enum UDPPacket {
    /// IPv4 header (no options) + UDP header: where `emit` expects the payload.
    public static let headerLength = 28

    /// The addressing and payload of a parsed IPv4/UDP packet.
    public struct Parsed: Equatable, Sendable {
        public var source: IPv4Address
        public var sourcePort: UInt16
        public var destination: IPv4Address
        public var destinationPort: UInt16
        /// Where the payload lies in the packet.
        public var payload: Range<Int>
    }

    /// Parses an IPv4/UDP packet (header, lengths, both checksums); nil if it is not one, or a fragment.
    public static func parse(_ packet: UnsafeRawBufferPointer) -> Parsed? {
        guard let ip = try? IPv4Header.parse(packet) else { return nil }
        return parse(packet, ip: ip)
    }

    /// The same, for a packet whose IPv4 header the caller has already parsed (`ip`).
    public static func parse(_ packet: UnsafeRawBufferPointer, ip: IPv4Header) -> Parsed? {
        guard ip.protocolNumber == IPv4Header.protocolUDP, !ip.isFragment,
              let udp = try? UDPHeader.parse(UnsafeRawBufferPointer(rebasing: packet[ip.payloadRange]),
                                             source: ip.source, destination: ip.destination) else { return nil }
        let start = ip.headerLength + 8
        return Parsed(source: ip.source, sourcePort: udp.sourcePort, destination: ip.destination,
                      destinationPort: udp.destinationPort, payload: start..<(ip.headerLength + udp.length))
    }

    /// Writes the IPv4 and UDP headers in front of the `payloadLength` bytes already at
    /// `packet[headerLength...]`. Returns the packet's length; throws, writing nothing, when the
    /// buffer cannot hold the packet or the payload is too large for one.
    @discardableResult
    public static func emit(into packet: UnsafeMutableRawBufferPointer, source: IPv4Address, sourcePort: UInt16,
                            destination: IPv4Address, destinationPort: UInt16, payloadLength: Int,
                            identification: UInt16 = 0) throws(IPPacketError) -> Int {
        let total = headerLength + payloadLength
        guard total <= 65535 else { throw .badLength }
        guard packet.count >= total else { throw .bufferTooSmall(needed: total, available: packet.count) }
        let ip = IPv4Header(source: source, destination: destination, protocolNumber: IPv4Header.protocolUDP,
                            payloadLength: 8 + payloadLength, identification: identification)
        let udp = UDPHeader(sourcePort: sourcePort, destinationPort: destinationPort, payloadLength: payloadLength)
        try udp.emit(into: UnsafeMutableRawBufferPointer(rebasing: packet[20..<total]), source: source, destination: destination)
        try ip.emit(into: packet)
        return total
    }
}
