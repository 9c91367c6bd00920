// The address field SOCKS5 uses in requests, replies and UDP headers (RFC 1928 §4, §5):
// ATYP, then 4 bytes (IPv4), a length-prefixed name (domain) or 16 bytes (IPv6), then a
// 2-byte port. One codec for all three messages.

/// A SOCKS5 destination or bound address.
public enum SOCKS5Address: Hashable, Sendable, CustomStringConvertible {
    case ipv4(IPv4Address)
    /// 1–255 bytes by format; the share name arrives this way.
    case domain(String)
    /// 16 bytes, network order.
    case ipv6([UInt8])

    static let typeIPv4: UInt8 = 1
    static let typeDomain: UInt8 = 3
    static let typeIPv6: UInt8 = 4

    public var description: String {
        switch self {
        case .ipv4(let a): return a.description
        case .domain(let name): return name
        case .ipv6(let b):
            return stride(from: 0, to: 16, by: 2)
                .map { String(b.bigEndianUInt16(at: $0), radix: 16) }.joined(separator: ":")
        }
    }

    /// Bytes `encode` writes, ATYP and port included.
    public var encodedLength: Int {
        switch self {
        case .ipv4: return 1 + 4 + 2
        case .domain(let name): return 1 + 1 + name.utf8.count + 2
        case .ipv6: return 1 + 16 + 2
        }
    }

    /// Appends ATYP, address and port. A domain must be 1–255 bytes and an IPv6 address 16
    /// bytes: callers build these from parsed input or their own configuration, so anything
    /// else is a programming error.
    public func encode(port: UInt16, into out: inout [UInt8]) {
        switch self {
        case .ipv4(let a):
            let b = a.bytes
            out += [Self.typeIPv4, b.0, b.1, b.2, b.3]
        case .domain(let name):
            let bytes = Array(name.utf8)
            precondition((1...255).contains(bytes.count), "SOCKS5 domain must be 1-255 bytes")
            out.append(Self.typeDomain)
            out.append(UInt8(bytes.count))
            out += bytes
        case .ipv6(let bytes):
            precondition(bytes.count == 16, "IPv6 address must be 16 bytes")
            out.append(Self.typeIPv6)
            out += bytes
        }
        out.appendBigEndian(port)
    }

    /// Result of reading an address field from the start of `bytes`.
    enum Parsed: Equatable {
        case needMoreData
        case unsupportedType(UInt8)
        /// A zero-length or non-UTF-8 domain.
        case invalidDomain
        case address(SOCKS5Address, port: UInt16, length: Int)
    }

    /// Reads ATYP, address and port; `length` is the bytes consumed.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        guard let type = bytes.first else { return .needMoreData }
        let addressLength: Int
        switch type {
        case typeIPv4: addressLength = 4
        case typeIPv6: addressLength = 16
        case typeDomain:
            guard bytes.count >= 2 else { return .needMoreData }
            addressLength = 1 + Int(bytes[1])
        default: return .unsupportedType(type)
        }
        let total = 1 + addressLength + 2
        guard bytes.count >= total else { return .needMoreData }
        let port = bytes.bigEndianUInt16(at: total - 2)
        switch type {
        case typeIPv4:
            return .address(.ipv4(IPv4Address(bytes[1], bytes[2], bytes[3], bytes[4])), port: port, length: total)
        case typeIPv6:
            return .address(.ipv6(Array(bytes[1..<17])), port: port, length: total)
        default:
            let name = UnsafeRawBufferPointer(rebasing: bytes[2..<(2 + addressLength - 1)])
            guard name.count > 0, let text = String(validating: name, as: UTF8.self) else { return .invalidDomain }
            return .address(.domain(text), port: port, length: total)
        }
    }
}
