import CInterop
import COpenSSL
import CShims
import Glibc

/// A fresh Ed25519 key pair from libcrypto (EVP_PKEY_keygen). The 32-byte seed is secret: call
/// `wipe()` once it has been serialized.
public struct Ed25519Key: ~Copyable {
    public private(set) var seed: [UInt8]
    public let publicKey: [UInt8]

    public static func generate() throws(CryptoError) -> Ed25519Key {
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else { throw CryptoError.openSSL("create an Ed25519 context") }
        defer { EVP_PKEY_CTX_free(ctx) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_keygen(ctx, &key) == 1, let key else {
            throw CryptoError.openSSL("generate an Ed25519 key")
        }
        defer { EVP_PKEY_free(key) }
        var seed = [UInt8](repeating: 0, count: 32)
        var publicKey = [UInt8](repeating: 0, count: 32)
        var seedLength = 32, publicLength = 32
        guard EVP_PKEY_get_raw_private_key(key, &seed, &seedLength) == 1, seedLength == 32,
              EVP_PKEY_get_raw_public_key(key, &publicKey, &publicLength) == 1, publicLength == 32 else {
            throw CryptoError.openSSL("read the Ed25519 key")
        }
        return Ed25519Key(seed: seed, publicKey: publicKey)
    }

    public mutating func wipe() { Secret.wipe(&seed) }
}

/// Wiping and random bytes from libcrypto.
public enum Secret {
    /// Overwrites the bytes in place (OPENSSL_cleanse, which the compiler may not optimize away).
    public static func wipe(_ bytes: inout [UInt8]) { wipeSecret(&bytes) }

    public static func random(_ count: Int) throws(CryptoError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else { throw CryptoError.openSSL("draw random bytes") }
        return bytes
    }
}

public enum CryptoError: Error, CustomStringConvertible, Equatable {
    case openSSL(String)
    /// The AEAD tag did not verify: wrong key (password) or altered ciphertext.
    case authenticationFailed
    case malformed(String)

    public var description: String {
        switch self {
        case .openSSL(let what):
            return "OpenSSL could not \(what): \(OpenSSLError.drain()). Check that libssl3 is installed and intact."
        case .authenticationFailed:
            return "the key could not be decrypted: wrong password, or the stored key was altered"
        case .malformed(let what): return "malformed \(what)"
        }
    }
}
