import COpenSSL
import CShims
import Foundation
import Wire

/// Password sealing for SSH sharing: scrypt(password, salt) → 64 bytes = AES-256-GCM key ‖ verifier
/// key. The relay stores the salt, the scrypt parameters, the verifier
/// (HMAC-SHA256(verifier key, "vshare ssh verifier")) and the sealed record; it releases the sealed
/// record only for a proof equal to the verifier, so a guesser must ask the relay (throttled) for
/// every guess and never gets material to test passwords offline.
public enum PasswordSealing {
    /// scrypt N = 2^16, r = 8, p = 1: 64 MiB and ≈0.25 s per derivation on this machine's cores.
    public static let defaultLogN: UInt8 = 16
    public static let defaultR: UInt32 = 8
    public static let defaultP: UInt32 = 1
    static let verifierLabel = Array("vshare ssh verifier".utf8)
    static let associatedData = Array("vshare-ssh-key-v1".utf8)

    /// The two keys derived from a password. Wipe with `wipe()` after use.
    public struct DerivedKeys: ~Copyable {
        public var sealingKey: [UInt8]
        public var verifierKey: [UInt8]

        /// What the client presents and the relay stores: HMAC-SHA256(verifierKey, label).
        public func proof() throws(CryptoError) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 32)
            var length: UInt32 = 0
            let ok = verifierKey.withUnsafeBytes { key in
                PasswordSealing.verifierLabel.withUnsafeBytes { label in
                    HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), label.baseAddress?.assumingMemoryBound(to: UInt8.self),
                         label.count, &out, &length) != nil
                }
            }
            guard ok, length == 32 else { throw CryptoError.openSSL("compute HMAC-SHA256") }
            return out
        }

        public mutating func wipe() {
            Secret.wipe(&sealingKey)
            Secret.wipe(&verifierKey)
        }
    }

    public static func derive(password: [UInt8], params: SSHKDFParams) throws(CryptoError) -> DerivedKeys {
        guard params.isAcceptable, let salt = Data(base64Encoded: params.salt) else {
            throw CryptoError.malformed("key derivation parameters (expected scrypt with sane limits)")
        }
        var out = [UInt8](repeating: 0, count: 64)
        let n = UInt64(1) << UInt64(params.logN)
        let maxMemory = n * UInt64(params.r) * 128 * UInt64(params.p) + (32 << 20)
        let ok = password.withUnsafeBytes { pass in
            [UInt8](salt).withUnsafeBytes { saltBytes in
                EVP_PBE_scrypt(pass.baseAddress?.assumingMemoryBound(to: CChar.self), pass.count,
                               saltBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), saltBytes.count,
                               n, UInt64(params.r), UInt64(params.p), maxMemory, &out, 64) == 1
            }
        }
        guard ok else { throw CryptoError.openSSL("derive a key with scrypt") }
        let keys = DerivedKeys(sealingKey: Array(out[0..<32]), verifierKey: Array(out[32..<64]))
        Secret.wipe(&out)
        return keys
    }

    /// Seals `plaintext` under `password` with fresh salt and nonce; returns what the relay stores.
    public static func seal(_ plaintext: [UInt8], password: [UInt8], once: Bool,
                            logN: UInt8 = defaultLogN) throws(CryptoError) -> SSHKeyBlob {
        let salt = try Secret.random(16)
        let params = SSHKDFParams(logN: logN, r: defaultR, p: defaultP, salt: Data(salt).base64EncodedString())
        var keys = try derive(password: password, params: params)
        defer { keys.wipe() }
        let nonce = try Secret.random(12)
        let ciphertext = try aesGCM(encrypt: true, key: keys.sealingKey, nonce: nonce, input: plaintext)
        let verifier = try keys.proof()
        return SSHKeyBlob(kdf: params, verifier: Data(verifier).base64EncodedString(),
                          sealed: SSHSealedKey(nonce: Data(nonce).base64EncodedString(),
                                               ciphertext: Data(ciphertext).base64EncodedString()),
                          once: once)
    }

    /// Opens a sealed record with the key derived from the password; throws `.authenticationFailed`
    /// for a wrong key or altered bytes. The caller wipes the result.
    public static func open(_ sealed: SSHSealedKey, keys: borrowing DerivedKeys) throws(CryptoError) -> [UInt8] {
        guard sealed.cipher == "aes-256-gcm", let nonce = Data(base64Encoded: sealed.nonce), nonce.count == 12,
              let ciphertext = Data(base64Encoded: sealed.ciphertext), ciphertext.count >= 16 else {
            throw CryptoError.malformed("sealed key")
        }
        return try aesGCM(encrypt: false, key: keys.sealingKey, nonce: [UInt8](nonce), input: [UInt8](ciphertext))
    }

    /// AES-256-GCM with a fixed associated-data label; the 16-byte tag follows the ciphertext.
    static func aesGCM(encrypt: Bool, key: [UInt8], nonce: [UInt8], input: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard let ctx = EVP_CIPHER_CTX_new() else { throw CryptoError.openSSL("create a cipher context") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let body = encrypt ? input : Array(input[0..<(input.count - 16)])
        var tag = encrypt ? [UInt8](repeating: 0, count: 16) : Array(input[(input.count - 16)...])
        var out = [UInt8](repeating: 0, count: body.count + 16)
        var length: Int32 = 0, total = 0
        let initialize = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        let update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate
        guard initialize(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nil) == 1,
              initialize(ctx, nil, nil, key, nonce) == 1,
              update(ctx, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
            throw CryptoError.openSSL("set up AES-256-GCM")
        }
        if !body.isEmpty {
            guard update(ctx, &out, &length, body, Int32(body.count)) == 1 else { throw CryptoError.openSSL("run AES-256-GCM") }
            total = Int(length)
        }
        if encrypt {
            guard out.withUnsafeMutableBufferPointer({ EVP_EncryptFinal_ex(ctx, $0.baseAddress! + total, &length) }) == 1,
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1 else {
                throw CryptoError.openSSL("finish AES-256-GCM")
            }
            total += Int(length)
            return Array(out[0..<total]) + tag
        }
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, &tag) == 1 else { throw CryptoError.openSSL("set the GCM tag") }
        let final = out.withUnsafeMutableBufferPointer { EVP_DecryptFinal_ex(ctx, $0.baseAddress! + total, &length) }
        guard final == 1 else {
            Secret.wipe(&out)
            ERR_clear_error()
            throw CryptoError.authenticationFailed
        }
        total += Int(length)
        let plain = Array(out[0..<total])
        Secret.wipe(&out)
        return plain
    }
}
