import CInterop
import COpenSSL

/// A TLS failure, with OpenSSL's own explanation drained from its error queue.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let what: String
    public let detail: String
    /// The peer's certificate failed verification (wrong CA, name mismatch, expired).
    public let isCertificateFailure: Bool
    /// An end-to-end session's two sides hold different pre-shared keys (`TLSContext.externalPSK`).
    public let isKeyMismatch: Bool

    public init(_ what: String, detail: String? = nil, certificateFailure: Bool = false, keyMismatch: Bool = false) {
        self.what = what
        self.detail = detail ?? OpenSSLError.drain(whenEmpty: "")
        self.isCertificateFailure = certificateFailure
        self.isKeyMismatch = keyMismatch
    }

    /// The handshake of an end-to-end session failed because the peer's key is not ours: the pairing
    /// did not agree on one, or something other than the paired peer answered.
    static func keyMismatch() -> TLSError {
        TLSError("TLS handshake failed: the peer does not hold the same session key (the connect code did not"
                 + " pair these two ends, or something else answered); pair again with a new connect code",
                 keyMismatch: true)
    }

    public var description: String { detail.isEmpty ? what : "\(what): \(detail)" }
}
