import CInterop
import COpenSSL
import Identity
import Wire

/// How user tokens are stored: HMAC-SHA256 keyed with a per-token random salt.
///
/// A fast hash is enough here, unlike for passwords: tokens are 256 random bits from the CSPRNG, so
/// even a stolen database leaves 2^256 guesses per token, and slowing each guess down buys nothing.
/// A slow hash (scrypt) would instead make every authentication, and every guess an attacker sends
/// the relay, cost tens of milliseconds of CPU. The salt keeps equal tokens from having equal hashes.
enum TokenHash {
    static let saltLength = 16

    /// A new random token: 32 bytes from the CSPRNG as 64 hex digits.
    static func makeToken() -> String { Hex.encode(SecretToken.randomBytes(32)) }

    static func makeSalt() -> [UInt8] { SecretToken.randomBytes(saltLength) }

    static func hash(token: String, salt: [UInt8]) throws -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let message = Array(token.utf8)
        let result = salt.withUnsafeBytes { key in
            message.withUnsafeBytes { data in
                HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), data.baseAddress?.assumingMemoryBound(to: UInt8.self),
                     data.count, &digest, &length)
            }
        }
        guard result != nil else { throw StoreError.openSSL(operation: "compute HMAC-SHA256", detail: OpenSSLError.drain()) }
        return Array(digest.prefix(Int(length)))
    }

    /// Whether `token` hashes to `expected` under `salt`, comparing in constant time.
    static func matches(token: String, salt: [UInt8], expected: [UInt8]) throws -> Bool {
        constantTimeEqual(try hash(token: token, salt: salt), expected)
    }
}
