/// The messages the two ends of a data connection exchange before TLS: SPAKE2 over the connect
/// code (RFC 9382), in the clear — they are safe to show a relay, which is exactly who carries them.
///
///     type (UInt8) | length (UInt16) | body (length bytes)
///
/// Order: peer → agent `share(pA)`; agent → peer `share(pB)`, `confirm(cB)` (or `refused`);
/// peer → agent `confirm(cA)`, then the peer starts TLS 1.3 with the key both derived.
/// A side that reads a message reads its 3-byte header, then exactly `length` bytes, so it never
/// consumes a byte of the TLS handshake that follows.
public enum PairingMessage: Equatable, Sendable {
    /// A SPAKE2 share: an uncompressed P-256 point.
    case share([UInt8])
    /// A SPAKE2 key-confirmation MAC.
    case confirm([UInt8])
    /// The agent will not pair now (too many wrong codes); UTF-8 text for the peer's user.
    case refused(String)

    public static let headerSize = 3
    /// Largest body either side accepts: a point is 65 bytes, a MAC 32, a reason short.
    public static let maxBody = 1024

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case unknownType(UInt8)
        case tooLong(Int)

        public var description: String {
            switch self {
            case .unknownType(let t): return "unknown pairing message type \(t)"
            case .tooLong(let n): return "a pairing message of \(n) bytes (at most \(PairingMessage.maxBody))"
            }
        }
    }

    private var typeCode: UInt8 {
        switch self {
        case .share: return 1
        case .confirm: return 2
        case .refused: return 3
        }
    }

    public func encoded() -> [UInt8] {
        let body: [UInt8]
        switch self {
        case .share(let bytes), .confirm(let bytes): body = bytes
        case .refused(let reason): body = Array(reason.utf8.prefix(Self.maxBody))
        }
        var out: [UInt8] = [typeCode]
        out.appendBigEndian(UInt16(body.count))
        out.append(contentsOf: body)
        return out
    }

    /// The body length a 3-byte header announces; checks type and bound first.
    public static func bodyLength(header: some Collection<UInt8>) throws(ParseError) -> Int {
        let h = Array(header)
        guard (1...3).contains(h[0]) else { throw .unknownType(h[0]) }
        let length = Int(h.bigEndianUInt16(at: 1))
        guard length <= maxBody else { throw .tooLong(length) }
        return length
    }

    /// A whole message: its header (already checked by `bodyLength`) and body.
    public static func decode(header: some Collection<UInt8>, body: [UInt8]) throws(ParseError) -> PairingMessage {
        let type = Array(header)[0]
        switch type {
        case 1: return .share(body)
        case 2: return .confirm(body)
        case 3: return .refused(String(decoding: body, as: UTF8.self))
        default: throw .unknownType(type)
        }
    }
}
