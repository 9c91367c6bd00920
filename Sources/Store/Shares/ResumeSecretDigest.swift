import COpenSSL
import Wire

/// A share's resume secret as the store keeps it: its SHA-256, in hex. The secret is 192 random
/// bits from the CSPRNG (`SecretToken.make`), so a fast unsalted hash leaves nothing to guess from a
/// stolen database, and a restarted relay can still check an agent's secret against it.
public enum ResumeSecretDigest {
    public static func of(_ secret: String) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let message = Array(secret.utf8)
        // EVP_Digest fails only without memory; an empty digest then matches no secret.
        let done = message.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, &length, EVP_sha256(), nil) }
        return done == 1 ? Hex.encode(Array(digest.prefix(Int(length)))) : ""
    }
}
