// Reads the server name (SNI, RFC 6066 §3) from the first bytes of a TLS connection
// without decrypting anything, so the relay can route HTTPS by name and pass the raw
// bytes through. Handles a ClientHello split over several handshake records.

public enum ClientHelloSNI {
    public enum Result: Equatable, Sendable {
        /// Not enough bytes yet to decide; read more (up to `maxClientHelloBytes` plus record headers).
        case needMoreData
        /// The host_name from the server_name extension, as sent.
        case found(String)
        /// A well-formed ClientHello without a server_name extension.
        case absent
        /// Not TLS, not a ClientHello, or a ClientHello that violates the format.
        case malformed(String)
    }

    /// Largest ClientHello handshake message accepted (the body, excluding its 4-byte header).
    public static let maxClientHelloBytes = 16 * 1024

    public static func parse(_ bytes: [UInt8]) -> Result {
        bytes.withUnsafeBytes { parse($0) }
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Result {
        // 1. Reassemble the handshake stream from consecutive handshake records until the
        //    ClientHello message is complete.
        var handshake: [UInt8] = []
        var offset = 0
        var needed: Int? = nil   // total handshake bytes needed (header + body), once known
        while true {
            if let needed, handshake.count >= needed { break }
            let available = bytes.count - offset
            if available < 1 { return .needMoreData }
            if bytes[offset] != 22 {
                return .malformed(offset == 0 ? "not a TLS handshake (first byte \(bytes[offset]))"
                                              : "non-handshake record before the ClientHello ended")
            }
            if available >= 2 && bytes[offset + 1] != 3 { return .malformed("unknown TLS record version") }
            if available < 5 { return .needMoreData }
            let length = Int(bytes.bigEndianUInt16(at: offset + 3))
            if length == 0 { return .malformed("empty handshake record") }
            if length > 16384 { return .malformed("TLS record longer than 16384 bytes") }
            let body = offset + 5
            let have = min(length, bytes.count - body)
            handshake.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[body..<(body + have)]))
            if needed == nil && handshake.count >= 4 {
                if handshake[0] != 1 { return .malformed("first handshake message is not a ClientHello") }
                let msgLength = Int(handshake.bigEndianUInt24(at: 1))
                if msgLength > maxClientHelloBytes { return .malformed("ClientHello longer than \(maxClientHelloBytes) bytes") }
                if msgLength < 38 { return .malformed("ClientHello too short") }
                needed = 4 + msgLength
            } else if needed == nil && !handshake.isEmpty && handshake[0] != 1 {
                return .malformed("first handshake message is not a ClientHello")
            }
            if have < length {
                if let needed, handshake.count >= needed { break }
                return .needMoreData
            }
            offset = body + length
        }
        let total = needed!
        return handshake.withUnsafeBufferPointer { parseClientHello(UnsafeBufferPointer(rebasing: $0[4..<total])) }
    }

    /// Parses a ClientHello body (after the handshake header), all bytes present.
    static func parseClientHello(_ m: UnsafeBufferPointer<UInt8>) -> Result {
        var r = Reader(m)
        guard r.skip(2 + 32) else { return .malformed("truncated ClientHello") }   // legacy_version, random
        guard let sidLen = r.u8(), sidLen <= 32, r.skip(Int(sidLen)) else { return .malformed("bad session id") }
        guard let csLen = r.u16(), csLen >= 2, csLen % 2 == 0, r.skip(Int(csLen)) else { return .malformed("bad cipher suites") }
        guard let cmLen = r.u8(), cmLen >= 1, r.skip(Int(cmLen)) else { return .malformed("bad compression methods") }
        if r.remaining == 0 { return .absent }   // no extensions at all (pre-TLS 1.2 style)
        guard let extLen = r.u16(), Int(extLen) == r.remaining else { return .malformed("extensions length mismatch") }
        var seen = Set<UInt16>()
        var name: String? = nil
        while r.remaining > 0 {
            guard let type = r.u16(), let len = r.u16(), let ext = r.slice(Int(len)) else { return .malformed("truncated extension") }
            guard seen.insert(type).inserted else { return .malformed("duplicate extension \(type)") }
            guard type == 0 else { continue }
            var e = Reader(ext)
            guard let listLen = e.u16(), Int(listLen) == e.remaining, listLen > 0 else { return .malformed("bad server_name list length") }
            while e.remaining > 0 {
                guard let nameType = e.u8(), let nameLen = e.u16(), let nameBytes = e.slice(Int(nameLen)) else {
                    return .malformed("truncated server_name entry")
                }
                guard nameType == 0 else { continue }   // only host_name is defined
                guard name == nil else { return .malformed("more than one host_name") }
                guard !nameBytes.isEmpty, nameBytes.count <= 255 else { return .malformed("bad host_name length") }
                for b in nameBytes {
                    let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                        || b == 0x2D || b == 0x2E || b == 0x5F
                    guard ok else { return .malformed("invalid character in host_name") }
                }
                name = String(decoding: nameBytes, as: UTF8.self)
            }
        }
        if let name { return .found(name) }
        return .absent
    }

    struct Reader {
        let buf: UnsafeBufferPointer<UInt8>
        var pos = 0
        init(_ buf: UnsafeBufferPointer<UInt8>) { self.buf = buf }
        var remaining: Int { buf.count - pos }
        mutating func skip(_ n: Int) -> Bool {
            guard n <= remaining else { return false }
            pos += n; return true
        }
        mutating func u8() -> UInt8? {
            guard remaining >= 1 else { return nil }
            defer { pos += 1 }
            return buf[pos]
        }
        mutating func u16() -> UInt16? {
            guard remaining >= 2 else { return nil }
            defer { pos += 2 }
            return buf.bigEndianUInt16(at: pos)
        }
        mutating func slice(_ n: Int) -> UnsafeBufferPointer<UInt8>? {
            guard n <= remaining else { return nil }
            defer { pos += n }
            return UnsafeBufferPointer(rebasing: buf[pos..<(pos + n)])
        }
    }
}
