// The UDP header (RFC 768) as a value. Symmetric with its checksum: `parse` verifies it (a zero
// field means "no checksum", allowed over IPv4, and is remembered as `hasChecksum == false`);
// `emit` fills it the same way (a computed zero goes out as 0xFFFF; no checksum stays zero).

public struct UDPHeader: Equatable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Header + payload bytes.
    public var length: Int
    public var hasChecksum = true

    public init(sourcePort: UInt16, destinationPort: UInt16, payloadLength: Int) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = 8 + payloadLength
    }

    /// The payload's place in the datagram.
    public var payloadRange: Range<Int> { 8..<length }

    /// Parses `datagram` (the IP payload: header, payload, maybe trailing bytes beyond `length`,
    /// which are ignored) and verifies its checksum against the pseudo-header.
    public static func parse(_ datagram: UnsafeRawBufferPointer, source: IPv4Address,
                             destination: IPv4Address) throws(IPPacketError) -> UDPHeader {
        guard datagram.count >= 8 else { throw .truncated }
        let length = Int(datagram.bigEndianUInt16(at: 4))
        guard length >= 8 else { throw .badLength }
        guard length <= datagram.count else { throw .truncated }
        var h = UDPHeader(sourcePort: datagram.bigEndianUInt16(at: 0), destinationPort: datagram.bigEndianUInt16(at: 2),
                          payloadLength: length - 8)
        h.hasChecksum = datagram.bigEndianUInt16(at: 6) != 0
        if h.hasChecksum {
            let pseudo = InternetChecksum.pseudoHeader(source: source, destination: destination,
                                                       protocolNumber: IPv4Header.protocolUDP, length: length)
            guard InternetChecksum.verify(UnsafeRawBufferPointer(rebasing: datagram[0..<length]), initial: pseudo) else {
                throw .badChecksum
            }
        }
        return h
    }

    /// Writes the 8-byte header at the start of `datagram`, whose payload must already lie at
    /// `datagram[8..<length]`, and fills the checksum. Throws, writing nothing, when the buffer
    /// is shorter than `length`.
    public func emit(into datagram: UnsafeMutableRawBufferPointer, source: IPv4Address,
                     destination: IPv4Address) throws(IPPacketError) {
        guard length >= 8, length <= 65535 - 20 else { throw .badLength }
        guard datagram.count >= length else { throw .bufferTooSmall(needed: length, available: datagram.count) }
        datagram.storeBigEndian(sourcePort, at: 0)
        datagram.storeBigEndian(destinationPort, at: 2)
        datagram.storeBigEndian(UInt16(length), at: 4)
        datagram.storeBigEndian(UInt16(0), at: 6)
        guard hasChecksum else { return }
        let sum = InternetChecksum.combine(
            InternetChecksum.pseudoHeader(source: source, destination: destination, protocolNumber: IPv4Header.protocolUDP,
                                          length: length),
            InternetChecksum.sum(UnsafeMutableRawBufferPointer(rebasing: datagram[0..<length])))
        let checksum = InternetChecksum.finish(sum)
        datagram.storeBigEndian(checksum == 0 ? 0xFFFF : checksum, at: 6)
    }
}
