import CInterop
import COpenSSL

/// RFC 9382 §4 for SPAKE2-P256-SHA256-HKDF-HMAC: the transcript TT and the keys and confirmation
/// MACs derived from it. Pure given its inputs. A class so that `wipe()` (also run on release)
/// overwrites the one copy of each secret in place rather than a copy-on-write duplicate.
final class SPAKE2KeySchedule {
    /// The shared point K, uncompressed (kept for the test vectors, which list it).
    var sharedPoint: [UInt8]
    /// TT = len(A) ‖ A ‖ len(B) ‖ B ‖ len(pA) ‖ pA ‖ len(pB) ‖ pB ‖ len(K) ‖ K ‖ len(w) ‖ w.
    var transcript: [UInt8]
    /// Ke ‖ Ka = SHA-256(TT): Ke is the shared key, Ka only keys the confirmations.
    var ke: [UInt8]
    var ka: [UInt8]
    /// KcA ‖ KcB = HKDF-SHA256(salt: nil, IKM: Ka, info: "ConfirmationKeys" ‖ AAD, L = 32).
    var kcA: [UInt8]
    var kcB: [UInt8]
    /// cA = HMAC-SHA256(KcA, TT), cB = HMAC-SHA256(KcB, TT).
    var confirmationA: [UInt8]
    var confirmationB: [UInt8]

    init(identityA: [UInt8], identityB: [UInt8], shareA: [UInt8], shareB: [UInt8], sharedPoint: [UInt8],
         w: [UInt8], aad: [UInt8]) throws(PairingError) {
        self.sharedPoint = sharedPoint
        var transcript: [UInt8] = []
        for field in [identityA, identityB, shareA, shareB, sharedPoint, w] {
            Self.appendLengthPrefixed(field, to: &transcript)
        }
        self.transcript = transcript
        var digest = try Self.sha256(transcript)
        ke = Array(digest[0..<16])
        ka = Array(digest[16..<32])
        wipeSecret(&digest)
        var confirmationKeys = try Self.hkdfSHA256(key: ka, info: Array("ConfirmationKeys".utf8) + aad)
        kcA = Array(confirmationKeys[0..<16])
        kcB = Array(confirmationKeys[16..<32])
        wipeSecret(&confirmationKeys)
        confirmationA = try Self.hmacSHA256(key: kcA, message: transcript)
        confirmationB = try Self.hmacSHA256(key: kcB, message: transcript)
    }

    deinit { wipe() }

    func wipe() {
        wipeSecret(&sharedPoint)
        wipeSecret(&transcript)
        wipeSecret(&ke)
        wipeSecret(&ka)
        wipeSecret(&kcA)
        wipeSecret(&kcB)
        wipeSecret(&confirmationA)
        wipeSecret(&confirmationB)
    }

    /// RFC 9382 §3.3: each field preceded by its length as an 8-byte little-endian integer.
    static func appendLengthPrefixed(_ field: [UInt8], to out: inout [UInt8]) {
        var length = UInt64(field.count)
        for _ in 0..<8 {
            out.append(UInt8(truncatingIfNeeded: length))
            length >>= 8
        }
        out.append(contentsOf: field)
    }

    static func sha256(_ message: [UInt8]) throws(PairingError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard EVP_Digest(message, message.count, &out, &length, EVP_sha256(), nil) == 1, length == 32 else {
            throw .openSSL(call: "EVP_Digest(SHA-256)", detail: OpenSSLError.drain())
        }
        return out
    }

    static func hmacSHA256(key: [UInt8], message: [UInt8]) throws(PairingError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &out, &length) != nil,
              length == 32 else {
            throw .openSSL(call: "HMAC(SHA-256)", detail: OpenSSLError.drain())
        }
        return out
    }

    /// HKDF-SHA256 (RFC 5869) with no salt and one output block (L = 32): PRK = HMAC(0³², IKM),
    /// OKM = HMAC(PRK, info ‖ 0x01). Written out because one block is all SPAKE2 needs.
    static func hkdfSHA256(key: [UInt8], info: [UInt8]) throws(PairingError) -> [UInt8] {
        var pseudorandomKey = try hmacSHA256(key: [UInt8](repeating: 0, count: 32), message: key)
        defer { wipeSecret(&pseudorandomKey) }
        return try hmacSHA256(key: pseudorandomKey, message: info + [0x01])
    }
}
