// The ICMPv4 header (RFC 792) as a value: type, code and the 4 "rest of header" bytes
// (identifier + sequence for echo). `parse` verifies the checksum over the whole message,
// `emit` fills it over the whole message.

public struct ICMPv4Header: Equatable, Sendable {
    public static let echoReply: UInt8 = 0
    public static let destinationUnreachable: UInt8 = 3
    public static let echoRequest: UInt8 = 8
    public static let codePortUnreachable: UInt8 = 3

    public var type: UInt8
    public var code: UInt8
    public var rest: UInt32

    public init(type: UInt8, code: UInt8, rest: UInt32 = 0) {
        self.type = type
        self.code = code
        self.rest = rest
    }

    public var identifier: UInt16 { UInt16(truncatingIfNeeded: rest >> 16) }
    public var sequence: UInt16 { UInt16(truncatingIfNeeded: rest) }

    /// `message` is the whole ICMP message (the IP payload).
    public static func parse(_ message: UnsafeRawBufferPointer) throws(IPPacketError) -> ICMPv4Header {
        guard message.count >= 8 else { throw .truncated }
        guard InternetChecksum.verify(message) else { throw .badChecksum }
        return ICMPv4Header(type: message[0], code: message[1], rest: message.bigEndianUInt32(at: 4))
    }

    /// Writes the 8-byte header at the start of `message`, whose body must already follow (the
    /// message is the whole buffer), and fills the checksum. Throws, writing nothing, when the
    /// buffer is shorter than the header.
    public func emit(into message: UnsafeMutableRawBufferPointer) throws(IPPacketError) {
        guard message.count >= 8 else { throw .bufferTooSmall(needed: 8, available: message.count) }
        message[0] = type
        message[1] = code
        message.storeBigEndian(UInt16(0), at: 2)
        message.storeBigEndian(rest, at: 4)
        message.storeBigEndian(InternetChecksum.finish(InternetChecksum.sum(message)), at: 2)
    }
}
