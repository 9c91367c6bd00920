import Wire

/// One request to the web interface, as the connection read it: head, body, and who sent it.
public struct AdminRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// The TCP peer's address (login throttling is per address).
    public var client: String

    public init(head: HTTPRequestHead, body: [UInt8] = [], client: String) {
        self.head = head
        self.body = body
        self.client = client
    }

    /// `Authorization: Bearer TOKEN`'s token.
    var bearerToken: String? {
        guard let value = head.headers["Authorization"] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1].trimmingASCIIWhitespace())
    }

    /// The path, percent-decoded, to show in a "no such page" answer (escaped like all text).
    var displayPath: String {
        let path = head.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return FormEncoding.percentDecode(path, plusIsSpace: false)
    }

    /// The target's query string as fields (`?status=4xx&path=%2Fapi`), decoded like a form.
    var query: [String: String] {
        let parts = head.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count == 2 ? FormEncoding.decode(String(parts[1])) : [:]
    }

    var sessionID: String? { AdminCookie.sessionID(fromCookieHeader: head.headers["Cookie"]) }

    /// The body as an HTML form (`application/x-www-form-urlencoded`).
    var form: [String: String] { FormEncoding.decode(String(decoding: body, as: UTF8.self)) }
}

/// `application/x-www-form-urlencoded`, the encoding of every form the interface posts.
enum FormEncoding {
    /// Fields by name (the last value wins); malformed escapes are kept as they are.
    static func decode(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            fields[percentDecode(kv[0], plusIsSpace: true)] = kv.count > 1 ? percentDecode(kv[1], plusIsSpace: true) : ""
        }
        return fields
    }

    /// Fields as a query string, every byte but unreserved ones percent-encoded (links the pages
    /// build from a filter the user typed).
    static func encode(_ fields: [(String, String)]) -> String {
        fields.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    static func percentDecode(_ text: Substring, plusIsSpace: Bool) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            switch byte {
            case 0x2B where plusIsSpace: bytes.append(0x20)   // '+' is a space in forms (not in paths)
            case 0x25 where utf8.count >= 2:
                if let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                    bytes.append(value)
                    utf8 = utf8.dropFirst(2)
                } else {
                    bytes.append(byte)
                }
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
