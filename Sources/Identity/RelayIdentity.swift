/// The relay's TLS identity on disk: a private CA, a server certificate it signed, and the owner token.
public struct RelayIdentity: Sendable {
    /// `ca.pem`: what agents pin (`--ca`) to trust the relay.
    public let caCertificatePath: String
    /// `server.pem`: the relay's TLS certificate, signed by the CA.
    public let certificatePath: String
    /// `server-key.pem`: the key of `certificatePath` (mode 0600).
    public let privateKeyPath: String
    /// The owner token (64 hex digits, 256 bits from RAND_bytes), also stored in `token` (mode 0600).
    public let token: String

    public init(caCertificatePath: String, certificatePath: String, privateKeyPath: String, token: String) {
        self.caCertificatePath = caCertificatePath
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.token = token
    }
}
