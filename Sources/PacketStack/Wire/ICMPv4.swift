/// The ICMPv4 header (RFC 792): type, code, checksum and the 4 "rest of header" bytes
/// (identifier + sequence for echo). `parse` verifies the checksum over the whole message.
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

    public static func parse(_ message: UnsafeRawBufferPointer) throws(WireError) -> ICMPv4Header {
        guard let p = message.baseAddress, message.count >= 8 else { throw .truncated }
        guard Checksum.verify(message) else { throw .badChecksum }
        return ICMPv4Header(type: p.load(as: UInt8.self), code: p.load(fromByteOffset: 1, as: UInt8.self), rest: loadBE32(p, 4))
    }

    /// Writes the 8-byte header; the `length - 8` body bytes must already follow. Fills the checksum.
    public func emit(into p: UnsafeMutableRawPointer, length: Int) {
        p.storeBytes(of: type, as: UInt8.self)
        p.storeBytes(of: code, toByteOffset: 1, as: UInt8.self)
        storeBE16(p, 2, 0)
        storeBE32(p, 4, rest)
        storeBE16(p, 2, Checksum.finish(Checksum.sum(UnsafeRawPointer(p), length)))
    }
}
