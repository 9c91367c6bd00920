// The IPv4 header (RFC 791) as a value. `parse` checks version, IHL, total length and (by
// default) the header checksum; `emit` writes the same header back, options included, with a
// fresh checksum: parse(emit(h)) == h, and emit(parse(bytes)) gives back the header bytes (a
// checksum field of 0xFFFF where the sum asks for 0x0000, which verifies as well, comes back as
// 0x0000: no sender computes the former).

public struct IPv4Header: Equatable, Sendable {
    public static let protocolICMP: UInt8 = 1
    public static let protocolTCP: UInt8 = 6
    public static let protocolUDP: UInt8 = 17

    /// Header + payload bytes, as in the header's total-length field.
    public var totalLength: Int
    public var tos: UInt8 = 0
    public var identification: UInt16 = 0
    public var dontFragment: Bool = true
    public var moreFragments: Bool = false
    /// In 8-byte units.
    public var fragmentOffset: UInt16 = 0
    public var ttl: UInt8 = 64
    public var protocolNumber: UInt8
    public var source: IPv4Address
    public var destination: IPv4Address
    /// The option bytes as on the wire (a multiple of 4, at most 40). Empty for nearly every
    /// packet, so parsing one allocates nothing.
    public var options: [UInt8] = []

    public init(source: IPv4Address, destination: IPv4Address, protocolNumber: UInt8, payloadLength: Int,
                identification: UInt16 = 0, ttl: UInt8 = 64) {
        self.source = source
        self.destination = destination
        self.protocolNumber = protocolNumber
        self.totalLength = 20 + payloadLength
        self.identification = identification
        self.ttl = ttl
    }

    /// Header bytes, options included.
    public var headerLength: Int { 20 + options.count }
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }
    /// Where the payload lies in the buffer the header was parsed from (or emitted into).
    public var payloadRange: Range<Int> { headerLength..<totalLength }

    /// Parses the header at the start of `packet`. Bytes beyond the total length are ignored.
    public static func parse(_ packet: UnsafeRawBufferPointer, verifyChecksum: Bool = true) throws(IPPacketError) -> IPv4Header {
        guard packet.count >= 20 else { throw .truncated }
        let vihl = packet[0]
        guard vihl >> 4 == 4 else { throw .badVersion }
        let ihl = Int(vihl & 0x0F) * 4
        guard ihl >= 20 else { throw .badHeaderLength }
        guard ihl <= packet.count else { throw .truncated }
        let total = Int(packet.bigEndianUInt16(at: 2))
        guard total >= ihl else { throw .badLength }
        guard total <= packet.count else { throw .truncated }
        if verifyChecksum && !InternetChecksum.verify(UnsafeRawBufferPointer(rebasing: packet[0..<ihl])) { throw .badChecksum }
        let fragment = packet.bigEndianUInt16(at: 6)
        var h = IPv4Header(source: IPv4Address(packet.bigEndianUInt32(at: 12)),
                           destination: IPv4Address(packet.bigEndianUInt32(at: 16)),
                           protocolNumber: packet[9], payloadLength: total - 20,
                           identification: packet.bigEndianUInt16(at: 4), ttl: packet[8])
        h.totalLength = total
        h.tos = packet[1]
        h.dontFragment = fragment & 0x4000 != 0
        h.moreFragments = fragment & 0x2000 != 0
        h.fragmentOffset = fragment & 0x1FFF
        if ihl > 20 { h.options = Array(packet[20..<ihl]) }
        return h
    }

    /// Writes the `headerLength` header bytes at the start of `packet`, checksum included; the
    /// payload is the caller's. Returns the header length. Throws (writing nothing) when the
    /// buffer is too small or the header cannot be encoded.
    @discardableResult
    public func emit(into packet: UnsafeMutableRawBufferPointer) throws(IPPacketError) -> Int {
        let n = headerLength
        guard options.count % 4 == 0, n <= 60 else { throw .badHeaderLength }
        guard totalLength >= n, totalLength <= 65535 else { throw .badLength }
        guard packet.count >= n else { throw .bufferTooSmall(needed: n, available: packet.count) }
        packet[0] = 0x40 | UInt8(n / 4)
        packet[1] = tos
        packet.storeBigEndian(UInt16(totalLength), at: 2)
        packet.storeBigEndian(identification, at: 4)
        packet.storeBigEndian((dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0) | (fragmentOffset & 0x1FFF), at: 6)
        packet[8] = ttl
        packet[9] = protocolNumber
        packet.storeBigEndian(UInt16(0), at: 10)
        packet.storeBigEndian(source.value, at: 12)
        packet.storeBigEndian(destination.value, at: 16)
        if !options.isEmpty {
            options.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: packet[20..<n]).copyMemory(from: $0) }
        }
        let header = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(packet)[0..<n])
        packet.storeBigEndian(InternetChecksum.finish(InternetChecksum.sum(header)), at: 10)
        return n
    }
}
