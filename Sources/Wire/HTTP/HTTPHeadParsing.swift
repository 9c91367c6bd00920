// Shared pieces of the request and response parsers: the input buffer (read index plus
// occasional compaction, never removeFirst) and head syntax (RFC 9112 §2–§5).
//
// Line ends: CRLF, and a bare LF is tolerated in heads (as nginx, Node and h11 do); a bare
// CR is rejected. Request heads are re-serialized with CRLF before forwarding, so the
// tolerance cannot desynchronize the upstream. obs-fold, whitespace before the colon,
// non-token field names and control bytes in values are rejected.

struct HTTPInputBuffer: Sendable {
    private(set) var storage: [UInt8] = []
    private(set) var readIndex = 0

    var readableCount: Int { storage.count - readIndex }
    var isEmpty: Bool { readIndex == storage.count }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfUseful()
        storage.append(contentsOf: bytes)
    }

    mutating func append(_ bytes: [UInt8]) {
        compactIfUseful()
        storage.append(contentsOf: bytes)
    }

    private mutating func compactIfUseful() {
        if readIndex == 0 { return }
        if readIndex == storage.count {
            storage.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= 4096 && readIndex * 2 >= storage.count {
            storage.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    mutating func skip(_ n: Int) { readIndex += n }

    /// Removes and returns the next `n` bytes as one bulk copy.
    mutating func take(_ n: Int) -> [UInt8] {
        let out = Array(storage[readIndex..<readIndex + n])
        readIndex += n
        return out
    }

    mutating func takeAll() -> [UInt8] { take(readableCount) }

    func withReadable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> R) throws(HTTPParseError) -> R {
        let result: Result<R, HTTPParseError> = storage.withUnsafeBufferPointer { all in
            let view = UnsafeBufferPointer(rebasing: all[readIndex...])
            do throws(HTTPParseError) { return .success(try body(view)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// Finds the end of a head: the empty line after the header fields. `scanned` is how far a
/// previous call got, so a slowly arriving head is scanned once overall.
func findHeadEnd(_ bytes: UnsafeBufferPointer<UInt8>, scanned: inout Int) -> Int? {
    var i = scanned
    let end = bytes.count
    while i < end {
        if bytes[i] == 0x0A {
            if i + 1 >= end { break }
            let next = bytes[i + 1]
            if next == 0x0A { return i + 2 }
            if next == 0x0D {
                if i + 2 >= end { break }
                if bytes[i + 2] == 0x0A { return i + 3 }
            }
        }
        i += 1
    }
    scanned = i
    return nil
}

/// Splits a complete head into lines (without line ends), rejecting bare CRs.
/// The trailing empty line is not included.
func headLines(_ head: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> [Range<Int>] {
    var lines: [Range<Int>] = []
    var start = 0
    var i = 0
    while i < head.count {
        let b = head[i]
        if b == 0x0A {
            var lineEnd = i
            if lineEnd > start && head[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd == start { break }   // the empty line that ends the head
            lines.append(start..<lineEnd)
            start = i + 1
        } else if b == 0x0D && (i + 1 >= head.count || head[i + 1] != 0x0A) {
            throw .malformed("bare CR in head")
        }
        i += 1
    }
    return lines
}

/// RFC 9110 `tchar` as two 64-bit masks (bytes 0–63 and 64–127): a table lookup without a lazy global.
private let tcharLow: UInt64 = 0x03ff_6cfa_0000_0000
private let tcharHigh: UInt64 = 0x57ff_ffff_c7ff_fffe

@inline(__always) func isTchar(_ b: UInt8) -> Bool {
    if b < 64 { return (tcharLow >> UInt64(b)) & 1 == 1 }
    if b < 128 { return (tcharHigh >> UInt64(b - 64)) & 1 == 1 }
    return false
}

/// Decodes bytes as a String. `strict`: invalid UTF-8 is an error (request heads are
/// re-serialized, so a lossy decode would alter them); otherwise decoded lossily.
func decodeString(_ bytes: UnsafeBufferPointer<UInt8>, strict: Bool, what: String) throws(HTTPParseError) -> String {
    if strict {
        guard let s = String(validating: bytes, as: UTF8.self) else { throw .malformed("\(what) is not valid UTF-8") }
        return s
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Parses the header field lines of a head.
/// `keep`: when given, only fields whose (raw) name it accepts are stored; all are still validated.
func parseHeaderFields(_ head: UnsafeBufferPointer<UInt8>, lines: ArraySlice<Range<Int>>, maxHeaders: Int, strictUTF8: Bool,
                       keep: ((UnsafeBufferPointer<UInt8>) -> Bool)? = nil) throws(HTTPParseError) -> HTTPHeaders {
    if lines.count > maxHeaders { throw .headTooLarge }
    var headers = HTTPHeaders()
    headers.fields.reserveCapacity(lines.count)
    for range in lines {
        let line = UnsafeBufferPointer(rebasing: head[range])
        let first = line[0]
        if first == 0x20 || first == 0x09 { throw .malformed("obs-fold (header line starting with whitespace)") }
        var colon = -1
        for j in 0..<line.count {
            let b = line[j]
            if b == 0x3A { colon = j; break }
            if b == 0x20 || b == 0x09 { throw .malformed("whitespace in or after header field name") }
            if !isTchar(b) { throw .malformed("invalid character in header field name") }
        }
        if colon < 0 { throw .malformed("header line without colon") }
        if colon == 0 { throw .malformed("empty header field name") }
        let valueRange = line.rangeTrimmingOptionalWhitespace((colon + 1)..<line.count)
        for j in valueRange {
            let b = line[j]
            if (b < 0x20 && b != 0x09) || b == 0x7F { throw .malformed("control character in header field value") }
        }
        if let keep, !keep(UnsafeBufferPointer(rebasing: line[0..<colon])) { continue }
        let name = String(decoding: UnsafeBufferPointer(rebasing: line[0..<colon]), as: UTF8.self)
        let value = try decodeString(UnsafeBufferPointer(rebasing: line[valueRange]), strict: strictUTF8, what: "header field value")
        headers.fields.append((name: name, value: value))
    }
    return headers
}

/// Parses `HTTP/D.D` exactly. Versions other than 1.x are reported as unsupportedVersion.
func parseVersion(_ bytes: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> HTTPVersion {
    guard bytes.count == 8, bytes[0] == 0x48, bytes[1] == 0x54, bytes[2] == 0x54, bytes[3] == 0x50,
          bytes[4] == 0x2F, bytes[6] == 0x2E,
          (0x30...0x39).contains(bytes[5]), (0x30...0x39).contains(bytes[7]) else {
        throw .malformed("invalid HTTP version")
    }
    let version = HTTPVersion(major: Int(bytes[5] - 0x30), minor: Int(bytes[7] - 0x30))
    guard version.major == 1 else { throw .unsupportedVersion }
    return version
}
