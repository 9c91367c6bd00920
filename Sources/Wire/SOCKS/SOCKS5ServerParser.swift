// Sans-I/O SOCKS5 server side (RFC 1928), for the connect client's proxy on 127.0.0.1.
// Feed bytes from the client in any split, pull events with `next()`: first the greeting,
// then the request. Bytes after the request (data a client pipelined before our reply) stay
// in the parser until the caller takes them with `takeRemainingBytes()`: nothing is lost.

public enum SOCKS5ServerEvent: Equatable, Sendable {
    /// The client offers "no authentication" (among others): answer
    /// `SOCKS5MethodSelection.encoded(SOCKS5MethodSelection.noAuthentication)`.
    case greeting(methods: [UInt8])
    /// The request is complete; answer with a `SOCKS5Reply`. The parser is done.
    case request(SOCKS5Request)
}

/// Why the handshake failed. `response` is what to send before closing, if anything.
public enum SOCKS5ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The greeting's VER is not 5 (a SOCKS4 or non-SOCKS client): close without a reply.
    case unsupportedVersion(UInt8)
    /// The client offered no method we accept (we only do "no authentication").
    case noAcceptableMethod(offered: [UInt8])
    /// The request's VER is not 5.
    case badRequestVersion(UInt8)
    case unsupportedCommand(UInt8)
    case unsupportedAddressType(UInt8)
    /// A zero-length or non-UTF-8 domain name.
    case invalidDomain

    /// The reply code for errors in the request phase.
    public var replyCode: SOCKS5ReplyCode? {
        switch self {
        case .unsupportedVersion, .noAcceptableMethod: return nil
        case .badRequestVersion, .invalidDomain: return .generalFailure
        case .unsupportedCommand: return .commandNotSupported
        case .unsupportedAddressType: return .addressTypeNotSupported
        }
    }

    /// Bytes to send before closing: a method selection of 0xFF, a failure reply, or nil.
    public var response: [UInt8]? {
        if case .noAcceptableMethod = self { return SOCKS5MethodSelection.encoded(SOCKS5MethodSelection.noAcceptableMethod) }
        return replyCode.map { SOCKS5Reply($0).encoded() }
    }

    public var description: String {
        switch self {
        case .unsupportedVersion(let v): return "not a SOCKS5 client (version \(v)); use SOCKS5, e.g. curl --socks5-hostname"
        case .noAcceptableMethod(let offered):
            return "SOCKS5 client offered methods \(offered) but the proxy accepts only 0 (no authentication)"
        case .badRequestVersion(let v): return "SOCKS5 request has version \(v), expected 5"
        case .unsupportedCommand(let c): return "SOCKS5 command \(c) is not supported (CONNECT and UDP ASSOCIATE are)"
        case .unsupportedAddressType(let t): return "SOCKS5 address type \(t) is not supported"
        case .invalidDomain: return "SOCKS5 request has an empty or non-UTF-8 host name"
        }
    }
}

public struct SOCKS5ServerParser: Sendable {
    private enum State: Sendable {
        case greeting
        case request
        case done
        case failed(SOCKS5ParseError)
    }

    /// The most a handshake can take: greeting 2 + 255 methods, request 4 + 1 + 255 + 2. The
    /// parser never needs more to decide, so what it holds while incomplete stays below this.
    public static let maxHandshakeBytes = 257 + 262

    private var state: State = .greeting
    private var buffer: [UInt8] = []

    public init() {}

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) { buffer.append(contentsOf: bytes) }
    public mutating func feed(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// True once the request has been returned.
    public var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Hands over the pipelined bytes and forgets them (the caller forwards them upstream).
    public mutating func takeRemainingBytes() -> [UInt8] {
        guard isComplete else { return [] }
        defer { buffer = [] }
        return buffer
    }

    /// The next event, or nil when more bytes are needed (or the request was already returned).
    /// After an error the parser stays failed and rethrows it.
    public mutating func next() throws(SOCKS5ParseError) -> SOCKS5ServerEvent? {
        do throws(SOCKS5ParseError) {
            switch state {
            case .failed(let error): throw error
            case .done: return nil
            case .greeting: return try parseGreeting()
            case .request: return try parseRequest()
            }
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// VER, NMETHODS, METHODS.
    private mutating func parseGreeting() throws(SOCKS5ParseError) -> SOCKS5ServerEvent? {
        guard let version = buffer.first else { return nil }
        guard version == 5 else { throw .unsupportedVersion(version) }
        guard buffer.count >= 2 else { return nil }
        let count = Int(buffer[1])
        guard buffer.count >= 2 + count else { return nil }
        let methods = Array(buffer[2..<(2 + count)])
        guard methods.contains(SOCKS5MethodSelection.noAuthentication) else { throw .noAcceptableMethod(offered: methods) }
        buffer.removeFirst(2 + count)
        state = .request
        return .greeting(methods: methods)
    }

    /// VER, CMD, RSV, ATYP, DST.ADDR, DST.PORT. RSV is not checked: RFC 1928 gives it no
    /// meaning and some clients send junk there.
    private mutating func parseRequest() throws(SOCKS5ParseError) -> SOCKS5ServerEvent? {
        guard let version = buffer.first else { return nil }
        guard version == 5 else { throw .badRequestVersion(version) }
        guard buffer.count >= 2 else { return nil }
        guard let command = SOCKS5Command(rawValue: buffer[1]) else { throw .unsupportedCommand(buffer[1]) }
        guard buffer.count >= 4 else { return nil }
        let parsed = buffer.withUnsafeBytes { SOCKS5Address.parse(UnsafeRawBufferPointer(rebasing: $0[3...])) }
        switch parsed {
        case .needMoreData: return nil
        case .unsupportedType(let type): throw .unsupportedAddressType(type)
        case .invalidDomain: throw .invalidDomain
        case .address(let address, let port, let length):
            buffer.removeFirst(3 + length)
            state = .done
            return .request(SOCKS5Request(command: command, destination: address, port: port))
        }
    }
}
