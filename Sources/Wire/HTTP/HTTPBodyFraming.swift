// How an HTTP/1.1 message body is delimited (RFC 9112 §6), and the tracker that
// follows a body's framing through raw bytes without ever accumulating the body.

/// How the current message's body is delimited.
public enum HTTPBodyFraming: Sendable, Equatable {
    /// No body (request without Content-Length/Transfer-Encoding, HEAD/1xx/204/304 responses).
    case none
    case contentLength(Int)
    case chunked
    /// Response body that ends when the server closes the connection.
    case untilClose
}

/// Follows a body's framing over raw bytes: reports how many bytes belong to the body
/// and whether the message ended. Chunk framing (size lines, extensions, CRLFs, trailers)
/// is validated byte by byte; chunk data is skipped in bulk.
///
/// Chunked line ends must be CRLF (a bare LF is an error): the proxy forwards these bytes
/// unchanged, so it must not accept framing the upstream server might read differently.
struct HTTPBodyTracker: Sendable {
    enum ChunkState: Sendable, Equatable {
        case sizeStart          // first hex digit of a size line
        case size               // more hex digits
        case sizeWhitespace     // BWS after the digits, before ';' or CR
        case extensions         // after ';' up to CR
        case sizeLF             // CR seen, LF expected
        case data               // `remaining` bytes of chunk data
        case dataCR             // CR expected after chunk data
        case dataLF
        case trailerStart       // start of a trailer line, or the final CRLF
        case trailerLine        // inside a trailer field line
        case trailerLF          // CR seen inside a trailer line
        case finalLF            // CR of the last empty line seen
    }

    static let maxLineBytes = 16 * 1024

    private(set) var framing: HTTPBodyFraming
    private var remaining: Int = 0       // Content-Length left, or chunk data left
    private var chunkState: ChunkState = .sizeStart
    private var chunkSize: Int = 0
    private var lineBytes: Int = 0       // bytes in the current size/trailer line
    private(set) var isComplete = false

    init(framing: HTTPBodyFraming) {
        self.framing = framing
        switch framing {
        case .none: isComplete = true
        case .contentLength(let n): remaining = n; isComplete = n == 0
        case .chunked, .untilClose: break
        }
    }

    /// Consumes a prefix of `bytes`; returns how many bytes belong to this body. After it
    /// returns, `isComplete` tells whether the message ended at that point.
    mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Int {
        if isComplete { return 0 }
        switch framing {
        case .none:
            return 0
        case .untilClose:
            return bytes.count
        case .contentLength:
            let n = min(remaining, bytes.count)
            remaining -= n
            if remaining == 0 { isComplete = true }
            return n
        case .chunked:
            return try consumeChunked(bytes)
        }
    }

    private mutating func consumeChunked(_ bytes: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Int {
        var i = 0
        let end = bytes.count
        while i < end {
            if chunkState == .data {
                let n = min(remaining, end - i)
                i += n
                remaining -= n
                if remaining == 0 { chunkState = .dataCR }
                continue
            }
            let b = bytes[i]
            i += 1
            switch chunkState {
            case .sizeStart, .size:
                if let digit = hexValue(b) {
                    if chunkSize > (Int.max >> 4) { throw .invalidChunk("chunk size too large") }
                    chunkSize = chunkSize << 4 | digit
                    chunkState = .size
                } else if chunkState == .sizeStart {
                    throw .invalidChunk("chunk size line does not start with a hex digit")
                } else if b == 0x20 || b == 0x09 {
                    chunkState = .sizeWhitespace
                } else if b == 0x3B {
                    chunkState = .extensions
                } else if b == 0x0D {
                    chunkState = .sizeLF
                } else {
                    throw .invalidChunk("unexpected byte \(b) in chunk size line")
                }
            case .sizeWhitespace:
                if b == 0x20 || b == 0x09 { break }
                if b == 0x3B { chunkState = .extensions }
                else if b == 0x0D { chunkState = .sizeLF }
                else { throw .invalidChunk("unexpected byte \(b) after chunk size") }
            case .extensions:
                if b == 0x0D { chunkState = .sizeLF }
                else if b < 0x20 && b != 0x09 || b == 0x7F { throw .invalidChunk("control byte \(b) in chunk extension") }
            case .sizeLF:
                guard b == 0x0A else { throw .invalidChunk("CR not followed by LF in chunk size line") }
                lineBytes = 0
                if chunkSize == 0 {
                    chunkState = .trailerStart
                } else {
                    remaining = chunkSize
                    chunkSize = 0
                    chunkState = .data
                }
                continue
            case .dataCR:
                guard b == 0x0D else { throw .invalidChunk("chunk data not followed by CRLF") }
                chunkState = .dataLF
            case .dataLF:
                guard b == 0x0A else { throw .invalidChunk("chunk data not followed by CRLF") }
                chunkState = .sizeStart
                lineBytes = 0
                continue
            case .trailerStart:
                if b == 0x0D { chunkState = .finalLF }
                else if b == 0x20 || b == 0x09 { throw .invalidChunk("obs-fold in trailer section") }
                else if b < 0x20 || b == 0x7F { throw .invalidChunk("control byte \(b) in trailer field") }
                else { chunkState = .trailerLine }
            case .trailerLine:
                if b == 0x0D { chunkState = .trailerLF }
                else if b < 0x20 && b != 0x09 || b == 0x7F { throw .invalidChunk("control byte \(b) in trailer field") }
            case .trailerLF:
                guard b == 0x0A else { throw .invalidChunk("CR not followed by LF in trailer section") }
                chunkState = .trailerStart
                lineBytes = 0
                continue
            case .finalLF:
                guard b == 0x0A else { throw .invalidChunk("CR not followed by LF at end of chunked body") }
                isComplete = true
                return i
            case .data:
                preconditionFailure("handled above")
            }
            lineBytes += 1
            if lineBytes > Self.maxLineBytes { throw .invalidChunk("chunk size or trailer line longer than \(Self.maxLineBytes) bytes") }
        }
        return i
    }

    @inline(__always)
    private func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: return Int(b - 0x30)
        case 0x41...0x46: return Int(b - 0x41 + 10)
        case 0x61...0x66: return Int(b - 0x61 + 10)
        default: return nil
        }
    }
}

// MARK: - framing decisions (RFC 9112 §6.3)

/// Content-Length values across all fields and list elements; all must be the same
/// decimal number.
func parseContentLength(_ headers: HTTPHeaders) throws(HTTPParseError) -> Int? {
    // Runs for every message the relay sees: scan the bytes in place, no splitting or trimming copies.
    var result: Int? = nil
    for field in headers where asciiCaseInsensitiveEqual(field.name, "Content-Length") {
        var value = field.value
        let valid = value.withUTF8 { bytes -> Bool in
            var start = 0
            while start <= bytes.count {   // comma-separated elements, which must all agree
                var end = start
                while end < bytes.count && bytes[end] != 0x2C { end += 1 }
                let digits = bytes.rangeTrimmingOptionalWhitespace(start..<end)
                guard !digits.isEmpty, digits.count <= 18 else { return false }
                var n = 0
                for i in digits {
                    let b = bytes[i]
                    guard b >= 0x30 && b <= 0x39 else { return false }
                    n = n * 10 + Int(b - 0x30)
                }
                if let r = result, r != n { return false }
                result = n
                start = end + 1
            }
            return true
        }
        if !valid { throw .invalidContentLength }
    }
    return result
}

/// A response's Transfer-Encoding (responses are read leniently, as browsers do): nil when there
/// is no field; true when `chunked` is the final coding across all fields.
func transferEncodingIsChunked(_ headers: HTTPHeaders) throws(HTTPParseError) -> Bool? {
    guard headers.contains(name: "Transfer-Encoding") else { return nil }
    let codings = headers.tokens(named: "Transfer-Encoding")
    guard let last = codings.last else { throw .malformed("empty Transfer-Encoding") }
    let chunkedCount = codings.filter { $0 == "chunked" }.count
    if last == "chunked" {
        if chunkedCount > 1 { throw .malformed("chunked applied more than once") }
        return true
    }
    if chunkedCount > 0 { throw .malformed("chunked is not the final transfer coding") }
    return false
}

/// A request's Transfer-Encoding, judged strictly: the relay re-frames nothing, so any coding the
/// machine's server might read differently from the relay is refused rather than forwarded
/// (request smuggling). Exactly one field whose whole value is `chunked` is accepted; two fields
/// are a 400, another coding (`gzip, chunked` included: the relay would have to trust the machine
/// to decode it the same way) a 501. Nil when there is no Transfer-Encoding field.
func requestIsChunked(_ headers: HTTPHeaders) throws(HTTPParseError) -> Bool? {
    var value: String?
    for field in headers where asciiCaseInsensitiveEqual(field.name, "Transfer-Encoding") {
        if value != nil { throw .malformed("more than one Transfer-Encoding header") }
        value = field.value
    }
    guard let value else { return nil }
    guard asciiCaseInsensitiveEqual(value, "chunked") else {
        if value.isEmpty { throw .malformed("empty Transfer-Encoding") }
        throw .unsupportedTransferEncoding
    }
    return true
}

func requestFraming(_ head: HTTPRequestHead) throws(HTTPParseError) -> HTTPBodyFraming {
    let te = try requestIsChunked(head.headers)
    let cl = try parseContentLength(head.headers)
    if te != nil {
        if cl != nil { throw .malformed("both Transfer-Encoding and Content-Length (request smuggling)") }
        if head.version == .http1_0 { throw .malformed("Transfer-Encoding in an HTTP/1.0 request") }
        return head.method == "CONNECT" ? .none : .chunked
    }
    if head.method == "CONNECT" { return .none }
    if let cl { return .contentLength(cl) }
    return .none
}

func responseFraming(_ head: HTTPResponseHead, requestMethod: String) throws(HTTPParseError) -> HTTPBodyFraming {
    if requestMethod == "HEAD" || (100..<200).contains(head.status) || head.status == 204 || head.status == 304 {
        return .none
    }
    if requestMethod == "CONNECT" && (200..<300).contains(head.status) { return .none }
    if let te = try transferEncodingIsChunked(head.headers) {
        // Transfer-Encoding overrides Content-Length; a non-chunked final coding reads until close.
        return te ? .chunked : .untilClose
    }
    if let cl = try parseContentLength(head.headers) { return .contentLength(cl) }
    return .untilClose
}
