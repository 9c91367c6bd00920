// HTTP/1.1 message heads: versions, header lists, request and response heads,
// and the parse errors the HTTP cores report. Pure values, no I/O.

/// An HTTP version as it appears on the wire (`HTTP/1.1` → major 1, minor 1).
public struct HTTPVersion: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(major: Int, minor: Int) { self.major = major; self.minor = minor }
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    public var description: String { "HTTP/\(major).\(minor)" }

    /// Appends `HTTP/M.N` without building a String (the parser accepts single digits only).
    func append(to out: inout [UInt8]) {
        out.append(contentsOf: "HTTP/".utf8)
        out.append(contentsOf: String(major).utf8)
        out.append(0x2E)
        out.append(contentsOf: String(minor).utf8)
    }
}

/// An ordered list of header fields. Names keep the case they were sent with;
/// every lookup is ASCII case-insensitive.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (name: String, value: String)

    @usableFromInline var fields: [Element]

    public init() { fields = [] }
    public init(_ pairs: [(String, String)]) { fields = pairs.map { (name: $0.0, value: $0.1) } }
    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[Element]> { fields.makeIterator() }

    /// The first value of the named field, or nil.
    public subscript(name: String) -> String? {
        for field in fields where asciiCaseInsensitiveEqual(field.name, name) { return field.value }
        return nil
    }

    /// Every value of the named field, in order.
    public func values(named name: String) -> [String] {
        fields.compactMap { asciiCaseInsensitiveEqual($0.name, name) ? $0.value : nil }
    }

    /// Comma-separated list elements across every field with that name, trimmed and
    /// lowercased, empty elements dropped (`Connection: keep-alive, Upgrade` → ["keep-alive", "upgrade"]).
    public func tokens(named name: String) -> [String] {
        var result: [String] = []
        for value in values(named: name) {
            for part in value.split(separator: ",", omittingEmptySubsequences: true) {
                let token = part.trimmingASCIIWhitespace().lowercased()
                if !token.isEmpty { result.append(token) }
            }
        }
        return result
    }

    public func contains(name: String) -> Bool {
        fields.contains { asciiCaseInsensitiveEqual($0.name, name) }
    }

    public mutating func add(name: String, value: String) { fields.append((name: name, value: value)) }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    func serialize(into out: inout [UInt8]) {
        for field in fields { appendHeaderField(field.name, field.value, to: &out) }
    }
}

/// A parsed request head. `serialized()` re-emits it in canonical form (single spaces,
/// CRLF line ends, `name: value`); the proxy forwards the same form with its own
/// `X-Forwarded-*` fields (`serializeForwarded`).
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method; self.target = target; self.version = version; self.headers = headers
    }

    /// The Host header as sent (may include a port), or nil.
    public var host: String? { headers["Host"] }

    /// HTTP/1.1: persistent unless `Connection: close`. HTTP/1.0: only with `Connection: keep-alive`.
    public var keepAlive: Bool { connectionKeepAlive(version: version, headers: headers) }

    /// `Connection: upgrade` plus an `Upgrade` header (HTTP/1.1 and later only; RFC 9110 §7.8
    /// says a 1.0 Upgrade is ignored), or a CONNECT request.
    public var isUpgrade: Bool {
        if method == "CONNECT" { return true }
        guard version.major == 1 && version.minor >= 1 || version.major > 1 else { return false }
        return headers.contains(name: "Upgrade") && headers.tokens(named: "Connection").contains("upgrade")
    }

    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + headers.fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        appendRequestLine(to: &out)
        headers.serialize(into: &out)
        out.append(0x0D); out.append(0x0A)
        return out
    }

    /// `METHOD target HTTP/M.N` and its CRLF.
    func appendRequestLine(to out: inout [UInt8]) {
        out.append(contentsOf: method.utf8); out.append(0x20)
        out.append(contentsOf: target.utf8); out.append(0x20)
        version.append(to: &out)
        out.append(0x0D); out.append(0x0A)
    }
}

/// A parsed response head. The response parser also hands out the exact head bytes,
/// which is what the proxy forwards; `serialized()` is for heads the relay builds itself.
public struct HTTPResponseHead: Sendable, Equatable {
    public var version: HTTPVersion
    public var status: Int
    public var reason: String
    public var headers: HTTPHeaders

    public init(version: HTTPVersion = .http1_1, status: Int, reason: String = "", headers: HTTPHeaders = HTTPHeaders()) {
        self.version = version; self.status = status; self.reason = reason; self.headers = headers
    }

    /// Whether the connection may carry another response after this one, judging by
    /// version and Connection header only (a read-until-close body also ends it).
    public var keepAlive: Bool { connectionKeepAlive(version: version, headers: headers) }

    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: version.description.utf8); out.append(0x20)
        out.append(contentsOf: String(status).utf8); out.append(0x20)
        out.append(contentsOf: reason.utf8)
        out.append(0x0D); out.append(0x0A)
        headers.serialize(into: &out)
        out.append(0x0D); out.append(0x0A)
        return out
    }
}

/// Why an HTTP message could not be parsed. `suggestedStatus` is the status the relay
/// should answer a client with (for upstream responses the relay answers 502 instead).
public enum HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Head longer than the limit, or too many header fields.
    case headTooLarge
    /// Syntax error in the request/status line or a header field.
    case malformed(String)
    /// A request's Transfer-Encoding other than exactly `chunked`.
    case unsupportedTransferEncoding
    /// A version other than HTTP/1.x.
    case unsupportedVersion
    /// Content-Length not a decimal number, or several differing values.
    case invalidContentLength
    /// Chunked framing error (size line, CRLF after data, trailer line).
    case invalidChunk(String)
    /// The peer closed the connection in the middle of a message.
    case unexpectedEOF
    /// Response bytes arrived with no request outstanding (`expectResponse` not called).
    case unsolicitedResponse

    public var suggestedStatus: Int {
        switch self {
        case .headTooLarge: return 431
        case .unsupportedTransferEncoding: return 501
        case .unsupportedVersion: return 505
        case .malformed, .invalidContentLength, .invalidChunk, .unexpectedEOF: return 400
        case .unsolicitedResponse: return 502
        }
    }

    public var description: String {
        switch self {
        case .headTooLarge: return "HTTP head too large (too many bytes or header fields)"
        case .malformed(let why): return "malformed HTTP message: \(why)"
        case .unsupportedTransferEncoding: return "unsupported Transfer-Encoding (a request may only be sent with 'Transfer-Encoding: chunked')"
        case .unsupportedVersion: return "unsupported HTTP version (only HTTP/1.0 and HTTP/1.1)"
        case .invalidContentLength: return "invalid or conflicting Content-Length"
        case .invalidChunk(let why): return "invalid chunked encoding: \(why)"
        case .unexpectedEOF: return "connection closed in the middle of an HTTP message"
        case .unsolicitedResponse: return "upstream sent response bytes with no request outstanding"
        }
    }
}

// MARK: - helpers shared by the HTTP cores

/// `name: value` and its CRLF.
func appendHeaderField(_ name: String, _ value: String, to out: inout [UInt8]) {
    out.append(contentsOf: name.utf8)
    out.append(0x3A); out.append(0x20)
    out.append(contentsOf: value.utf8)
    out.append(0x0D); out.append(0x0A)
}

@inline(__always)
func asciiLower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    // Compare contiguous UTF-8 directly: header lookups run several times per proxied request.
    var a = a, b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in
            for i in 0..<x.count where asciiLower(x[i]) != asciiLower(y[i]) { return false }
            return true
        }
    }
}

func connectionKeepAlive(version: HTTPVersion, headers: HTTPHeaders) -> Bool {
    let tokens = headers.tokens(named: "Connection")
    if tokens.contains("close") { return false }
    if version.major == 1 && version.minor == 0 { return tokens.contains("keep-alive") }
    return version.major >= 1
}
