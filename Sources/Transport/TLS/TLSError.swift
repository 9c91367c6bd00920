import COpenSSL

/// A TLS failure, with OpenSSL's own explanation drained from its error queue.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let what: String
    public let detail: String

    public init(_ what: String, detail: String? = nil) {
        self.what = what
        self.detail = detail ?? TLSError.drainOpenSSLErrors()
    }

    public var description: String { detail.isEmpty ? what : "\(what): \(detail)" }

    /// True when the peer's certificate failed verification (wrong CA, name mismatch, expired).
    public var isCertificateFailure: Bool { detail.contains("certificate") }

    static func drainOpenSSLErrors() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(cString: buffer))
        }
        return messages.joined(separator: "; ")
    }
}
