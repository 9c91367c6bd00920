import Wire

/// Random secrets (resume secrets, owner tokens) and the comparison used for every secret check.
public enum SecretToken {
    /// 24 random bytes from the system CSPRNG, as 48 lowercase hex digits.
    public static func make() -> String {
        Hex.encode(randomBytes(24))
    }

    /// `count` bytes from the system CSPRNG (getrandom(2) behind SystemRandomNumberGenerator).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = generator.next() }
        return bytes
    }

    /// Compares two secrets in time that depends only on their lengths.
    public static func equal(_ a: String, _ b: String) -> Bool {
        constantTimeEqual(Array(a.utf8), Array(b.utf8))
    }
}
