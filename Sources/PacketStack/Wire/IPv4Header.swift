/// The IPv4 header (RFC 791): `parse` checks version, IHL, total length and the header
/// checksum; options are accepted and skipped (`headerLength` covers them). `emit` writes a
/// 20-byte header without options, checksum included.
import Wire
public struct IPv4Header: Equatable, Sendable {
    public static let protocolICMP: UInt8 = 1
    public static let protocolTCP: UInt8 = 6
    public static let protocolUDP: UInt8 = 17

    public var headerLength: Int = 20
    public var totalLength: Int
    public var tos: UInt8 = 0
    public var identification: UInt16 = 0
    public var dontFragment: Bool = true
    public var moreFragments: Bool = false
    public var fragmentOffset: UInt16 = 0   // in 8-byte units
    public var ttl: UInt8 = 64
    public var protocolNumber: UInt8
    public var source: IPv4Address
    public var destination: IPv4Address

    public init(source: IPv4Address, destination: IPv4Address, protocolNumber: UInt8, payloadLength: Int,
                identification: UInt16 = 0, ttl: UInt8 = 64) {
        self.source = source
        self.destination = destination
        self.protocolNumber = protocolNumber
        self.totalLength = 20 + payloadLength
        self.identification = identification
        self.ttl = ttl
    }

    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }
    /// Where the payload lies in the buffer the header was parsed from.
    public var payloadRange: Range<Int> { headerLength..<totalLength }

    public static func parse(_ b: UnsafeRawBufferPointer, verifyChecksum: Bool = true) throws(WireError) -> IPv4Header {
        guard let p = b.baseAddress, b.count >= 20 else { throw .truncated }
        let vihl = p.load(as: UInt8.self)
        guard vihl >> 4 == 4 else { throw .badVersion }
        let ihl = Int(vihl & 0x0F) * 4
        guard ihl >= 20 else { throw .badHeaderLength }
        guard ihl <= b.count else { throw .truncated }
        let total = Int(loadBE16(p, 2))
        guard total >= ihl else { throw .badLength }
        guard total <= b.count else { throw .truncated }
        if verifyChecksum && !Checksum.verify(UnsafeRawBufferPointer(start: p, count: ihl)) { throw .badChecksum }
        let frag = loadBE16(p, 6)
        var h = IPv4Header(source: IPv4Address(value: loadBE32(p, 12)), destination: IPv4Address(value: loadBE32(p, 16)),
                           protocolNumber: p.load(fromByteOffset: 9, as: UInt8.self), payloadLength: total - 20,
                           identification: loadBE16(p, 4), ttl: p.load(fromByteOffset: 8, as: UInt8.self))
        h.headerLength = ihl
        h.totalLength = total
        h.tos = p.load(fromByteOffset: 1, as: UInt8.self)
        h.dontFragment = frag & 0x4000 != 0
        h.moreFragments = frag & 0x2000 != 0
        h.fragmentOffset = frag & 0x1FFF
        return h
    }

    /// Writes 20 bytes (options are never emitted) with the header checksum.
    public func emit(into p: UnsafeMutableRawPointer) {
        p.storeBytes(of: 0x45, as: UInt8.self)
        p.storeBytes(of: tos, toByteOffset: 1, as: UInt8.self)
        storeBE16(p, 2, UInt16(truncatingIfNeeded: totalLength - headerLength + 20))
        storeBE16(p, 4, identification)
        storeBE16(p, 6, (dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0) | (fragmentOffset & 0x1FFF))
        p.storeBytes(of: ttl, toByteOffset: 8, as: UInt8.self)
        p.storeBytes(of: protocolNumber, toByteOffset: 9, as: UInt8.self)
        storeBE16(p, 10, 0)
        storeBE32(p, 12, source.value)
        storeBE32(p, 16, destination.value)
        storeBE16(p, 10, Checksum.finish(Checksum.sum(UnsafeRawPointer(p), 20)))
    }
}
