import CInterop
import COpenSSL

/// SPAKE2's password scalar w, as 32 big-endian bytes in [1, order of P-256).
///
/// RFC 9382 §3.2 computes w = MHF(pw) mod p and leaves the memory-hard function, its parameters and
/// its salt to the application; `derive(code:identityA:identityB:)` is this application's choice.
public struct SPAKE2Password: Sendable {
    /// scrypt N = 2^15, r = 8, p = 1: 32 MiB and ≈0.1 s, paid once per pairing on each side. It only
    /// matters if w itself leaks: on the wire SPAKE2 already gives an attacker one guess per run.
    static let scryptLogN: UInt64 = 15
    static let scryptR: UInt64 = 8
    static let scryptP: UInt64 = 1
    /// 40 bytes = the 256-bit order plus 64 bits, so reducing mod the order has negligible bias
    /// (RFC 9382 §3.2's advice).
    static let derivedLength = 40
    static let saltLabel = Array("vshare pairing SPAKE2-P256 w v1".utf8)

    /// 32 big-endian bytes; kept internal so it is not copied around by callers.
    let bytes: [UInt8]

    /// A given w (e.g. RFC 9382's test vectors): big-endian, at most 32 bytes, in [1, order).
    public init(w: [UInt8]) throws(PairingError) {
        guard !w.isEmpty, w.count <= P256.scalarLength else {
            throw .invalidPassword("w must be 1 to 32 bytes, got \(w.count)")
        }
        let curve = try P256()
        bytes = curve.encode(try curve.scalar(bigEndian: w))
    }

    /// w from a connect code: scrypt(code's UTF-8 bytes, salt) → 40 bytes → mod the order. The salt
    /// is a fixed label followed by both identities (length-prefixed as in the transcript), so one
    /// code yields unrelated w for different pairs of parties. The code is used exactly as given:
    /// normalizing what a person typed (case, spaces) is the caller's job.
    public static func derive(code: String, identityA: [UInt8], identityB: [UInt8]) throws(PairingError) -> SPAKE2Password {
        var salt = saltLabel
        SPAKE2KeySchedule.appendLengthPrefixed(identityA, to: &salt)
        SPAKE2KeySchedule.appendLengthPrefixed(identityB, to: &salt)
        var password = Array(code.utf8)
        defer { wipeSecret(&password) }
        var derived = [UInt8](repeating: 0, count: derivedLength)
        defer { wipeSecret(&derived) }
        let n = UInt64(1) << scryptLogN
        let maxMemory = n * scryptR * 128 * scryptP + (16 << 20)
        let ok = password.withUnsafeBytes { pass in
            EVP_PBE_scrypt(pass.baseAddress?.assumingMemoryBound(to: CChar.self), pass.count, salt, salt.count,
                           n, scryptR, scryptP, maxMemory, &derived, derived.count) == 1
        }
        guard ok else { throw .openSSL(call: "EVP_PBE_scrypt", detail: OpenSSLError.drain()) }
        let curve = try P256()
        let w = try curve.scalar(reducing: derived)
        guard BN_is_zero(w.bignum) == 0 else { throw .invalidPassword("the code hashed to zero") }
        return SPAKE2Password(bytes: curve.encode(w))
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }
}
