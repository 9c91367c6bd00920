import CInterop
import COpenSSL
import Foundation
import Wire

/// `--basic-auth` passwords as the relay keeps them: scrypt(password, random 16-byte salt). The share
/// agent hashes; the relay verifies, paying one scrypt per password it has not seen verified (see
/// `BasicAuthGate` in the relay), so guessing stays as slow as the parameters make it.
public enum BasicAuthHash {
    /// N = 2^14, r = 8, p = 1: 16 MiB and tens of milliseconds, paid by the relay (on its password
    /// thread) for each unverified password, so deliberately cheaper than SSH sharing's 2^16.
    public static let logN: UInt8 = 14
    public static let r: UInt32 = 8
    public static let p: UInt32 = 1
    static let hashLength = 32

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A fresh salt and the hash of `password` under it.
    public static func make(user: String, password: [UInt8]) throws(Failure) -> BasicAuthVerifier {
        let salt = SecretToken.randomBytes(16)
        let kdf = SSHKDFParams(logN: logN, r: r, p: p, salt: Data(salt).base64EncodedString())
        var hash = try derive(password: password, salt: salt, kdf: kdf)
        defer { wipeSecret(&hash) }
        return BasicAuthVerifier(user: user, kdf: kdf, hash: Data(hash).base64EncodedString())
    }

    /// What a relay agrees to compute per unverified request: at most the cost of the parameters
    /// above (a share cannot make the relay spend more than its own agent would).
    public static func isAcceptable(_ verifier: BasicAuthVerifier) -> Bool {
        let kdf = verifier.kdf
        return kdf.kdf == "scrypt" && (10...logN).contains(kdf.logN) && (1...r).contains(kdf.r) && kdf.p == 1
            && (Data(base64Encoded: kdf.salt)?.count ?? 0) >= 16 && Data(base64Encoded: verifier.hash)?.count == hashLength
            && !verifier.user.isEmpty
    }

    /// Whether `user` and `password` are the ones `verifier` was made from (one scrypt; the
    /// comparison takes the same time wherever the hashes differ).
    public static func matches(_ verifier: BasicAuthVerifier, user: String, password: [UInt8]) -> Bool {
        guard let salt = Data(base64Encoded: verifier.kdf.salt), let expected = Data(base64Encoded: verifier.hash),
              var hash = try? derive(password: password, salt: [UInt8](salt), kdf: verifier.kdf) else { return false }
        defer { wipeSecret(&hash) }
        let userMatches = SecretToken.equal(user, verifier.user)
        return constantTimeEqual(hash, [UInt8](expected)) && userMatches
    }

    /// SHA-256, for the relay's cache of verified header values (never the password's stored form).
    public static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        let input = Array(bytes)
        input.withUnsafeBufferPointer { _ = SHA256($0.baseAddress, $0.count, &digest) }
        return digest
    }

    private static func derive(password: [UInt8], salt: [UInt8], kdf: SSHKDFParams) throws(Failure) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: hashLength)
        let n = UInt64(1) << UInt64(kdf.logN)
        let maxMemory = n * UInt64(kdf.r) * 128 * UInt64(kdf.p) + (16 << 20)
        let ok = password.withUnsafeBytes { pass in
            salt.withUnsafeBufferPointer { saltBytes in
                EVP_PBE_scrypt(pass.baseAddress?.assumingMemoryBound(to: CChar.self), pass.count,
                               saltBytes.baseAddress, saltBytes.count, n, UInt64(kdf.r), UInt64(kdf.p), maxMemory,
                               &out, out.count) == 1
            }
        }
        guard ok else { throw Failure(description: "scrypt failed: \(OpenSSLError.drain())") }
        return out
    }
}
