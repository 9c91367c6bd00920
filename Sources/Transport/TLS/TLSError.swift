import COpenSSL

/// A TLS failure, with OpenSSL's own explanation drained from its error queue.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let what: String
    public let detail: String

    public init(_ what: String, detail: String? = nil) {
        self.what = what
        self.detail = detail ?? OpenSSLError.drain(whenEmpty: "")
    }

    public var description: String { detail.isEmpty ? what : "\(what): \(detail)" }

    /// True when the peer's certificate failed verification (wrong CA, name mismatch, expired).
    public var isCertificateFailure: Bool { detail.contains("certificate") }
}
