import Foundation

/// The credentials of an `Authorization: Basic ...` header (RFC 7617): the user id is everything
/// before the first colon of the decoded value, the password everything after it.
public struct BasicAuthorization: Equatable, Sendable {
    public var user: String
    /// Raw bytes: a password is compared as it was typed, never normalized.
    public var password: [UInt8]

    public init(user: String, password: [UInt8]) { self.user = user; self.password = password }

    /// Parses a header value; nil for another scheme, bad base64, no colon, or a user id that is
    /// not UTF-8. The scheme name is case-insensitive; the token is one base64 word (padding optional).
    public init?(headerValue: String) {
        let value = headerValue.trimmingASCIIWhitespace()
        guard value.utf8.count <= 4096, let space = value.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        guard value[..<space].lowercased() == "basic" else { return nil }
        var token = String(value[space...].trimmingASCIIWhitespace())
        guard !token.isEmpty, !token.contains(where: { $0 == " " || $0 == "\t" }) else { return nil }
        // Some clients leave out the padding; Foundation's decoder needs it.
        while token.utf8.count % 4 != 0 { token += "=" }
        guard let decoded = Data(base64Encoded: token), let colon = decoded.firstIndex(of: 0x3A) else { return nil }
        let bytes = [UInt8](decoded)
        let split = colon - decoded.startIndex
        guard let user = String(validating: bytes[..<split], as: UTF8.self) else { return nil }
        self.init(user: user, password: Array(bytes[(split + 1)...]))
    }

    /// The header value a client sends: `Basic base64(user:password)`.
    public var headerValue: String {
        "Basic " + Data(Array(user.utf8) + [0x3A] + password).base64EncodedString()
    }
}
