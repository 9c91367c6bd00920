// Why an IP, TCP, UDP or ICMP header did not parse or could not be emitted. The codecs never
// trap on input: every failure is one of these.

public enum IPPacketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the header or a length field says.
    case truncated
    /// Not IPv4.
    case badVersion
    /// IHL < 5 or TCP data offset < 5, or (emitting) IPv4 options that are not a multiple of 4 or over 40 bytes.
    case badHeaderLength
    /// A total or UDP length inconsistent with the header or the buffer.
    case badLength
    case badChecksum
    /// A TCP option with an impossible length.
    case badOption
    /// `emit` was given a buffer smaller than what it has to write: nothing was written past it.
    case bufferTooSmall(needed: Int, available: Int)

    public var description: String {
        switch self {
        case .truncated: return "packet shorter than its headers say"
        case .badVersion: return "not an IPv4 packet"
        case .badHeaderLength: return "impossible IPv4 or TCP header length"
        case .badLength: return "IPv4 or UDP length field inconsistent with the packet"
        case .badChecksum: return "checksum mismatch"
        case .badOption: return "malformed TCP option"
        case .bufferTooSmall(let needed, let available):
            return "packet needs \(needed) bytes but the buffer holds \(available)"
        }
    }
}
