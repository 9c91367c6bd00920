/// The first bytes of a *data connection*: a plain TCP connection to the relay's control port
/// that the relay joins, byte for byte, to the other side's data connection for the same ticket.
/// It is how a connect client and a share agent reach each other for an end-to-end session
/// without the relay holding any of its keys (docs/PROTOCOL.md, "Data connections").
///
///     "VSHD" | version (UInt16) | side (UInt8) | ticket (32 bytes)
///
/// Everything after the preamble is the two ends' own business (`PairingMessage`, then TLS 1.3).
public struct DataPreamble: Equatable, Sendable {
    /// Which end of the session a data connection is. The relay joins one of each.
    public enum Side: UInt8, Sendable {
        /// The connect client: SPAKE2's A and the TLS client.
        case peer = 1
        /// The share agent: SPAKE2's B and the TLS server.
        case agent = 2
    }

    /// ASCII "VSHD". Its first byte can never start a TLS record (0x14…0x18), which is how the
    /// control port tells a data connection from a TLS control connection.
    public static let magic: [UInt8] = [0x56, 0x53, 0x48, 0x44]
    public static let ticketLength = 32
    public static let size = 4 + 2 + 1 + ticketLength

    public var side: Side
    public var ticket: [UInt8]

    public init(side: Side, ticket: [UInt8]) {
        self.side = side
        self.ticket = ticket
    }

    public func encoded() -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(Self.size)
        out.appendBigEndian(TunnelProtocol.version)
        out.append(side.rawValue)
        out.append(contentsOf: ticket)
        return out
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case badMagic
        case version(UInt16)
        case badSide(UInt8)
        case badTicket

        public var description: String {
            switch self {
            case .badMagic: return "not a vshare data connection"
            case .version(let v): return "data connection of protocol \(v); this relay speaks \(TunnelProtocol.version)"
            case .badSide(let s): return "unknown data connection side \(s)"
            case .badTicket: return "the ticket is not \(DataPreamble.ticketLength) bytes"
            }
        }
    }

    /// Parses exactly `size` bytes (the reader reads no more, so nothing after it is consumed).
    public static func parse(_ bytes: some Collection<UInt8>) throws(ParseError) -> DataPreamble {
        let b = Array(bytes)
        guard b.count == size else { throw .badTicket }
        guard Array(b[0..<4]) == magic else { throw .badMagic }
        let version = b.bigEndianUInt16(at: 4)
        guard version == TunnelProtocol.version else { throw .version(version) }
        guard let side = Side(rawValue: b[6]) else { throw .badSide(b[6]) }
        return DataPreamble(side: side, ticket: Array(b[7...]))
    }
}
