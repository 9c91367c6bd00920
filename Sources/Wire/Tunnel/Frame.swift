// Tunnel frame model: types, flags, reset codes, errors and per-type payload rules.
// The byte layout is documented in docs/PROTOCOL.md; FrameEncoder/FrameDecoder turn
// these values into bytes and back.

/// Constants of the tunnel protocol.
public enum TunnelProtocol {
    /// Protocol version carried in HELLO. Bump on incompatible changes.
    public static let version: UInt16 = 2
    /// What an agent tells its user when the relay's HELLO carries another version.
    public static func relayVersionMismatch(_ relayVersion: UInt16) -> String {
        "the relay speaks tunnel protocol \(relayVersion), this vshare \(version): use matching versions."
    }
    /// ASCII "VSHR", the first four bytes of every HELLO payload.
    public static let magic: [UInt8] = [0x56, 0x53, 0x48, 0x52]
    /// Size of the fixed frame header: length (UInt24) | type | flags | stream (UInt32).
    public static let headerSize = 9
    /// Largest payload the 24-bit length field can express.
    public static let maxEncodablePayload = (1 << 24) - 1
}

public enum FrameType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case hello = 0, control, open, data, window, reset, ping, datagram, goaway

    public var description: String {
        switch self {
        case .hello: "HELLO"
        case .control: "CONTROL"
        case .open: "OPEN"
        case .data: "DATA"
        case .window: "WINDOW"
        case .reset: "RESET"
        case .ping: "PING"
        case .datagram: "DATAGRAM"
        case .goaway: "GOAWAY"
        }
    }
}

/// Flag bits. Bits not defined for a type are reserved: senders set them to 0, receivers ignore them.
public enum FrameFlags {
    /// DATA: the sender half-closes the stream after this payload.
    public static let fin: UInt8 = 0x01
    /// PING: this frame answers a PING with the same payload.
    public static let ack: UInt8 = 0x01
}

/// Why a stream was reset. A struct (not an enum) so codes this build does not know survive decoding.
public struct ResetCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The application no longer wants the stream.
    public static let cancelled = ResetCode(rawValue: 0)
    /// The target refused the connection (or the mux refused the stream: too many streams, going away).
    public static let refused = ResetCode(rawValue: 1)
    /// The target could not be reached (no route, DNS failure, unknown share).
    public static let unreachable = ResetCode(rawValue: 2)
    /// The peer broke the stream's flow control.
    public static let flowControl = ResetCode(rawValue: 3)
    /// The peer broke the protocol on this stream.
    public static let protocolError = ResetCode(rawValue: 4)
    /// Connecting to the target or an idle stream timed out.
    public static let timeout = ResetCode(rawValue: 5)
    /// The share this stream belonged to has ended.
    public static let shareEnded = ResetCode(rawValue: 6)
    /// A bug or resource failure on the resetting side.
    public static let internalError = ResetCode(rawValue: 7)
    /// The share's connect scope does not include this port (`vshare share --ports`, or a target that
    /// is the share's own host, where only the shared ports are reachable by default).
    public static let forbidden = ResetCode(rawValue: 8)

    public var description: String {
        switch rawValue {
        case 0: "cancelled"
        case 1: "refused"
        case 2: "unreachable"
        case 3: "flowControl"
        case 4: "protocolError"
        case 5: "timeout"
        case 6: "shareEnded"
        case 7: "internalError"
        case 8: "forbidden"
        default: "code(\(rawValue))"
        }
    }
}

public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A frame header announced a payload larger than the receiver accepts (the value is the announced length).
    case frameTooLarge(Int)
    /// The type byte names no frame type this version knows.
    case unknownType(UInt8)
    /// The frame is structurally wrong for its type (bad stream id, payload size, magic...).
    case malformed(String)

    public var description: String {
        switch self {
        case .frameTooLarge(let n):
            "tunnel frame too large: header announces \(n) payload bytes, more than this side accepts; the peer is misbehaving or runs an incompatible version"
        case .unknownType(let t):
            "unknown tunnel frame type 0x\(String(t, radix: 16)); the peer speaks a different protocol or version, or the stream is corrupt"
        case .malformed(let why):
            "malformed tunnel frame: \(why)"
        }
    }
}

public struct Frame: Equatable, Sendable, CustomStringConvertible {
    public var type: FrameType
    public var flags: UInt8
    public var stream: UInt32
    public var payload: [UInt8]

    public init(type: FrameType, flags: UInt8 = 0, stream: UInt32 = 0, payload: [UInt8] = []) {
        self.type = type
        self.flags = flags
        self.stream = stream
        self.payload = payload
    }

    public var description: String {
        "\(type)(flags: 0x\(String(flags, radix: 16)), stream: \(stream), \(payload.count) bytes)"
    }

    // MARK: Constructors for typed payloads

    public static func hello(version: UInt16 = TunnelProtocol.version, body: [UInt8]) -> Frame {
        var p = TunnelProtocol.magic
        p.reserveCapacity(6 + body.count)
        p.appendBigEndian(version)
        p.append(contentsOf: body)
        return Frame(type: .hello, stream: 0, payload: p)
    }

    public static func control(_ payload: [UInt8]) -> Frame {
        Frame(type: .control, stream: 0, payload: payload)
    }

    public static func open(stream: UInt32, metadata: [UInt8]) -> Frame {
        Frame(type: .open, stream: stream, payload: metadata)
    }

    public static func data(stream: UInt32, _ bytes: [UInt8], fin: Bool = false) -> Frame {
        Frame(type: .data, flags: fin ? FrameFlags.fin : 0, stream: stream, payload: bytes)
    }

    public static func window(stream: UInt32, increment: UInt32) -> Frame {
        var p: [UInt8] = []
        p.appendBigEndian(increment)
        return Frame(type: .window, stream: stream, payload: p)
    }

    /// `maxPayload`: the reason is cut so the frame fits (the receiver's frame-size limit).
    public static func reset(stream: UInt32, code: ResetCode, reason: String, maxPayload: Int = .max) -> Frame {
        Frame(type: .reset, stream: stream, payload: codeAndReason(code.rawValue, reason, maxPayload: maxPayload))
    }

    public static func ping(_ token: UInt64, ack: Bool = false) -> Frame {
        var p: [UInt8] = []
        p.appendBigEndian(token)
        return Frame(type: .ping, flags: ack ? FrameFlags.ack : 0, stream: 0, payload: p)
    }

    public static func datagram(channel: UInt32, _ bytes: [UInt8]) -> Frame {
        Frame(type: .datagram, stream: channel, payload: bytes)
    }

    public static func goaway(code: UInt32, reason: String, maxPayload: Int = .max) -> Frame {
        Frame(type: .goaway, stream: 0, payload: codeAndReason(code, reason, maxPayload: maxPayload))
    }

    static func codeAndReason(_ code: UInt32, _ reason: String, maxPayload: Int) -> [UInt8] {
        let reasonBytes = reason.utf8.prefix(max(0, maxPayload - 4))
        var p: [UInt8] = []
        p.reserveCapacity(4 + reasonBytes.count)
        p.appendBigEndian(code)
        p.append(contentsOf: reasonBytes)
        return p
    }

    // MARK: Typed payload accessors (valid after `validate()` succeeded)

    public var isFin: Bool { type == .data && flags & FrameFlags.fin != 0 }
    public var isAck: Bool { type == .ping && flags & FrameFlags.ack != 0 }

    /// HELLO: (version, body after magic and version).
    public var helloFields: (version: UInt16, body: [UInt8])? {
        guard type == .hello, payload.count >= 6, payload[0..<4].elementsEqual(TunnelProtocol.magic) else { return nil }
        return (payload.bigEndianUInt16(at: 4), Array(payload[6...]))
    }

    /// RESET / GOAWAY: (code, reason). Invalid UTF-8 in the reason is replaced, not rejected.
    public var codeAndReason: (code: UInt32, reason: String)? {
        guard type == .reset || type == .goaway, payload.count >= 4 else { return nil }
        return (payload.bigEndianUInt32(at: 0), String(decoding: payload[4...], as: UTF8.self))
    }

    /// PING token.
    public var pingToken: UInt64? {
        guard type == .ping, payload.count == 8 else { return nil }
        return payload.bigEndianUInt64(at: 0)
    }

    /// Checks the per-type rules of docs/PROTOCOL.md (stream id, payload size, magic).
    /// The decoder calls it on every frame, so frames coming out of a decoder are well-formed.
    public func validate() throws(FrameError) {
        if payload.count > TunnelProtocol.maxEncodablePayload {
            throw .frameTooLarge(payload.count)
        }
        let result = payload.withUnsafeBytes { raw in
            Result { () throws(FrameError) in try Frame.validate(type: type, stream: stream, payload: raw) }
        }
        try result.get()
    }

    /// The same rules on a borrowed payload (what the decoder checks before handing out a view).
    static func validate(type: FrameType, stream: UInt32, payload: UnsafeRawBufferPointer) throws(FrameError) {
        switch type {
        case .hello, .control, .ping, .goaway:
            guard stream == 0 else { throw .malformed("\(type) must use stream 0, got \(stream)") }
        case .open, .data, .window, .reset:
            guard stream != 0 else { throw .malformed("\(type) must not use stream 0") }
        case .datagram:
            break
        }
        switch type {
        case .hello:
            guard payload.count >= 6 else { throw .malformed("HELLO payload is \(payload.count) bytes, needs at least 6 (magic + version)") }
            guard payload[0..<4].elementsEqual(TunnelProtocol.magic) else {
                throw .malformed("HELLO does not start with the magic \"VSHR\"; the peer is not a vshare tunnel endpoint")
            }
        case .window:
            guard payload.count == 4 else { throw .malformed("WINDOW payload is \(payload.count) bytes, must be 4") }
            guard payload.bigEndianUInt32(at: 0) > 0 else { throw .malformed("WINDOW increment is 0 on stream \(stream)") }
        case .reset, .goaway:
            guard payload.count >= 4 else { throw .malformed("\(type) payload is \(payload.count) bytes, needs at least 4 (code)") }
        case .ping:
            guard payload.count == 8 else { throw .malformed("PING payload is \(payload.count) bytes, must be 8") }
        case .control, .open, .data, .datagram:
            break
        }
    }
}
