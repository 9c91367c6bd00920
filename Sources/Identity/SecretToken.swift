import Wire

/// Random secrets (resume secrets, owner tokens) and the comparison used for every secret check.
public enum SecretToken {
    /// 24 random bytes from the system CSPRNG, as 48 lowercase hex digits.
    public static func make() -> String {
        var bytes = [UInt8](repeating: 0, count: 24)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = generator.next() }
        return hexString(bytes)
    }

    /// Compares two secrets in time that depends only on their lengths.
    public static func equal(_ a: String, _ b: String) -> Bool {
        constantTimeEqual(Array(a.utf8), Array(b.utf8))
    }

    static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
