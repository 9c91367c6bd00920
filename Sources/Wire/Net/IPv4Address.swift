// An IPv4 address as a value: the one type the TUN device, the machine-address allocator
// and the SOCKS5 codec share, so no module passes raw integers of unclear byte order.

/// An IPv4 address. `value` is in host byte order: 172.16.0.2 is 0xAC10_0002.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }
    public init(value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text ("172.16.0.2"); nil for anything else (no shorthand forms,
    /// no leading zeros, which some parsers read as octal).
    public init?(_ text: some StringProtocol) {
        var parts: [UInt32] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0",
                  let n = UInt32(part), n <= 255 else { return nil }
            parts.append(n)
        }
        guard parts.count == 4 else { return nil }
        value = parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]
    }

    /// The four bytes in network order.
    public var bytes: (UInt8, UInt8, UInt8, UInt8) {
        (UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value))
    }

    /// The last byte (the host part within a /24).
    public var lastOctet: UInt8 { UInt8(truncatingIfNeeded: value) }

    /// The same /24 network with the last byte replaced.
    public func withLastOctet(_ host: UInt8) -> IPv4Address {
        IPv4Address(value & 0xFFFF_FF00 | UInt32(host))
    }

    public var description: String {
        let b = bytes
        return "\(b.0).\(b.1).\(b.2).\(b.3)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}
