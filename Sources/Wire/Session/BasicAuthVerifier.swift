/// `--basic-auth`, what travels in `createShare` and what the relay keeps: the user name, the scrypt
/// parameters and salt (the record SSH sharing uses), and the scrypt hash of the password. The share
/// agent derives it; the password itself never leaves the sharer's machine.
public struct BasicAuthVerifier: Codable, Equatable, Sendable {
    public var user: String
    public var kdf: SSHKDFParams
    /// base64 of the 32-byte scrypt(password, salt) output.
    public var hash: String

    public init(user: String, kdf: SSHKDFParams, hash: String) {
        self.user = user
        self.kdf = kdf
        self.hash = hash
    }
}
