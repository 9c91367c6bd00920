// The Internet checksum (RFC 1071), the one sum under the IPv4, TCP, UDP and ICMP codecs.
//
// Speed (this runs over every byte of every TUN packet): the bytes are loaded as native-order
// UInt64 words and their 32-bit halves summed into two 64-bit accumulators (no carries to
// propagate until the end; 2^30 iterations before overflow), folded once, and byte-swapped at the
// end: the one's-complement sum is byte-order independent (RFC 1071 §2(B)).

public enum InternetChecksum {
    /// The folded 16-bit one's-complement sum (not complemented) of `bytes` read as big-endian words.
    public static func sum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        var p = base
        var n = bytes.count
        var a0: UInt64 = 0
        var a1: UInt64 = 0
        let lo: UInt64 = 0xFFFF_FFFF
        while n >= 32 {
            let w0 = p.loadUnaligned(as: UInt64.self)
            let w1 = p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let w2 = p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
            let w3 = p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            a0 &+= (w0 & lo) &+ (w0 >> 32) &+ (w1 & lo) &+ (w1 >> 32)
            a1 &+= (w2 & lo) &+ (w2 >> 32) &+ (w3 & lo) &+ (w3 >> 32)
            p += 32
            n -= 32
        }
        while n >= 8 {
            let w = p.loadUnaligned(as: UInt64.self)
            a0 &+= (w & lo) &+ (w >> 32)
            p += 8
            n -= 8
        }
        if n >= 4 {
            a1 &+= UInt64(p.loadUnaligned(as: UInt32.self))
            p += 4
            n -= 4
        }
        if n >= 2 {
            a1 &+= UInt64(p.loadUnaligned(as: UInt16.self))
            p += 2
            n -= 2
        }
        if n == 1 {
            // At an even offset: the high byte of a big-endian word, i.e. the low byte of a native one.
            #if _endian(little)
            a1 &+= UInt64(p.load(as: UInt8.self))
            #else
            a1 &+= UInt64(p.load(as: UInt8.self)) << 8
            #endif
        }
        var s = (a0 & lo) &+ (a0 >> 32) &+ (a1 & lo) &+ (a1 >> 32)
        s = (s & lo) &+ (s >> 32)
        s = (s & lo) &+ (s >> 32)
        s = (s & 0xFFFF) &+ (s >> 16)
        s = (s & 0xFFFF) &+ (s >> 16)
        s = (s & 0xFFFF) &+ (s >> 16)
        return UInt32(UInt16(bigEndian: UInt16(truncatingIfNeeded: s)))
    }

    public static func sum(_ bytes: UnsafeMutableRawBufferPointer) -> UInt32 {
        sum(UnsafeRawBufferPointer(bytes))
    }

    /// Adds two partial sums (each of an even-length run of bytes).
    @inline(__always)
    public static func combine(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var s = a &+ b
        s = (s & 0xFFFF) &+ (s >> 16)
        return (s & 0xFFFF) &+ (s >> 16)
    }

    /// The checksum field's value for a sum taken with the field zero.
    @inline(__always)
    public static func finish(_ sum: UInt32) -> UInt16 {
        ~UInt16(truncatingIfNeeded: combine(sum, 0))
    }

    /// Sum of the TCP/UDP pseudo-header (RFC 9293 §3.1, RFC 768).
    @inline(__always)
    public static func pseudoHeader(source: IPv4Address, destination: IPv4Address, protocolNumber: UInt8, length: Int) -> UInt32 {
        var s = (source.value >> 16) &+ (source.value & 0xFFFF)
        s &+= (destination.value >> 16) &+ (destination.value & 0xFFFF)
        s &+= UInt32(protocolNumber) &+ UInt32(truncatingIfNeeded: length & 0xFFFF)
        return combine(s, 0)
    }

    /// True when `bytes` (with their checksum field in place) plus `initial` sum to 0xFFFF.
    @inline(__always)
    public static func verify(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> Bool {
        combine(initial, sum(bytes)) == 0xFFFF
    }
}
