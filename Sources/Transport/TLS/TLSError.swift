import CInterop
import COpenSSL

/// A TLS failure, with OpenSSL's own explanation drained from its error queue.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let what: String
    public let detail: String
    /// The peer's certificate failed verification (wrong CA, name mismatch, expired).
    public let isCertificateFailure: Bool

    public init(_ what: String, detail: String? = nil, certificateFailure: Bool = false) {
        self.what = what
        self.detail = detail ?? OpenSSLError.drain(whenEmpty: "")
        self.isCertificateFailure = certificateFailure
    }

    public var description: String { detail.isEmpty ? what : "\(what): \(detail)" }
}
