// What a SOCKS5 server sends: the method selection after the greeting (RFC 1928 §3) and
// the reply to a request (§6).

/// REP values of a reply (RFC 1928 §6).
public enum SOCKS5ReplyCode: UInt8, Sendable {
    case succeeded = 0x00
    case generalFailure = 0x01
    /// "Connection not allowed by ruleset": destinations other than the share, and ports outside the
    /// share's connect scope (a stream reset with `ResetCode.forbidden`).
    case notAllowed = 0x02
    case networkUnreachable = 0x03
    case hostUnreachable = 0x04
    case connectionRefused = 0x05
    case commandNotSupported = 0x07
    case addressTypeNotSupported = 0x08
}

/// The server's answer to a request: a code and the address the server bound (for CONNECT,
/// its local end; for UDP ASSOCIATE, where the client sends its datagrams).
public struct SOCKS5Reply: Equatable, Sendable {
    public var code: SOCKS5ReplyCode
    public var bound: SOCKS5Address
    public var port: UInt16

    /// Failures carry 0.0.0.0:0, as the bound address means nothing then.
    public init(_ code: SOCKS5ReplyCode, bound: SOCKS5Address = .ipv4(IPv4Address(0)), port: UInt16 = 0) {
        self.code = code
        self.bound = bound
        self.port = port
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = [5, code.rawValue, 0]
        out.reserveCapacity(3 + bound.encodedLength)
        bound.encode(port: port, into: &out)
        return out
    }
}

/// The method-selection message (VER, METHOD).
public enum SOCKS5MethodSelection {
    /// The only method vshare offers: the SOCKS server listens on 127.0.0.1 only.
    public static let noAuthentication: UInt8 = 0x00
    /// "No acceptable methods": the client must close.
    public static let noAcceptableMethod: UInt8 = 0xFF

    public static func encoded(_ method: UInt8) -> [UInt8] { [5, method] }
}
