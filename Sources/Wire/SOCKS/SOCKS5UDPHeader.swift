// The header in front of every datagram relayed for UDP ASSOCIATE (RFC 1928 §7):
// RSV (2 bytes), FRAG, then the address field; the payload follows.

public enum SOCKS5UDPError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated
    /// FRAG ≠ 0: fragment reassembly is optional in RFC 1928 and vshare does not do it, so
    /// such datagrams are dropped (RFC 1928 §7 allows exactly that).
    case fragmented(UInt8)
    case unsupportedAddressType(UInt8)
    case invalidDomain

    public var description: String {
        switch self {
        case .truncated: return "SOCKS5 UDP datagram shorter than its header"
        case .fragmented(let f): return "SOCKS5 UDP fragment \(f) dropped: fragmentation is not supported"
        case .unsupportedAddressType(let t): return "SOCKS5 UDP datagram has unsupported address type \(t)"
        case .invalidDomain: return "SOCKS5 UDP datagram has an empty or non-UTF-8 host name"
        }
    }
}

public struct SOCKS5UDPHeader: Hashable, Sendable {
    /// Where the datagram goes (client → proxy) or came from (proxy → client).
    public var address: SOCKS5Address
    public var port: UInt16

    public init(address: SOCKS5Address, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Bytes `encode` writes before the payload.
    public var encodedLength: Int { 3 + address.encodedLength }

    /// Parses the header; the payload starts at `dataOffset`. Throw means: drop the datagram.
    public static func parse(_ datagram: UnsafeRawBufferPointer) throws(SOCKS5UDPError) -> (header: SOCKS5UDPHeader, dataOffset: Int) {
        guard datagram.count >= 4 else { throw .truncated }
        guard datagram[2] == 0 else { throw .fragmented(datagram[2]) }
        switch SOCKS5Address.parse(UnsafeRawBufferPointer(rebasing: datagram[3...])) {
        case .needMoreData: throw .truncated
        case .unsupportedType(let type): throw .unsupportedAddressType(type)
        case .invalidDomain: throw .invalidDomain
        case .address(let address, let port, let length):
            return (SOCKS5UDPHeader(address: address, port: port), 3 + length)
        }
    }

    public static func parse(_ datagram: [UInt8]) throws(SOCKS5UDPError) -> (header: SOCKS5UDPHeader, dataOffset: Int) {
        // Array.withUnsafeBytes only rethrows untyped errors: carry the typed one out in a Result.
        try datagram.withUnsafeBytes { bytes in Result { () throws(SOCKS5UDPError) in try parse(bytes) } }.get()
    }

    /// Appends RSV, FRAG 0 and the address; the caller appends the payload.
    public func encode(into out: inout [UInt8]) {
        out += [0, 0, 0]
        address.encode(port: port, into: &out)
    }
}
