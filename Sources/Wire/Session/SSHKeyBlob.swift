import Foundation

/// SSH sharing, what travels and what the relay stores: the share agent seals an SSH private key
/// (plus the machine's host keys, user and port) with a password-derived key and uploads only this.
/// The relay hands out `kdf` to anyone who names the share, and `sealed` only to a client whose
/// `proof` equals `verifier` (both derived from the password; the relay never sees the password).

/// The password KDF's parameters (scrypt) and salt, base64.
public struct SSHKDFParams: Codable, Equatable, Sendable {
    public var kdf: String        // "scrypt"
    public var logN: UInt8        // N = 2^logN
    public var r: UInt32
    public var p: UInt32
    public var salt: String       // base64, 16 bytes

    public init(kdf: String = "scrypt", logN: UInt8, r: UInt32, p: UInt32, salt: String) {
        self.kdf = kdf
        self.logN = logN
        self.r = r
        self.p = p
        self.salt = salt
    }

    /// What a client agrees to compute: a relay must not make it spend gigabytes or hours.
    public var isAcceptable: Bool {
        kdf == "scrypt" && (10...20).contains(logN) && (1...32).contains(r) && (1...16).contains(p)
            && (UInt64(1) << UInt64(logN)) * UInt64(r) * 128 <= 1 << 30
            && (Data(base64Encoded: salt)?.count ?? 0) >= 16
    }
}

/// The AEAD-sealed record: nonce and ciphertext (with the 16-byte tag appended), base64.
public struct SSHSealedKey: Codable, Equatable, Sendable {
    public var cipher: String     // "aes-256-gcm"
    public var nonce: String
    public var ciphertext: String

    public init(cipher: String = "aes-256-gcm", nonce: String, ciphertext: String) {
        self.cipher = cipher
        self.nonce = nonce
        self.ciphertext = ciphertext
    }
}

/// What `createShare` carries with `--ssh` and what the relay keeps with the share entry.
public struct SSHKeyBlob: Codable, Equatable, Sendable {
    public var kdf: SSHKDFParams
    /// base64 of HMAC-SHA256(verifierKey, "vshare ssh verifier"); the relay compares proofs with it.
    public var verifier: String
    public var sealed: SSHSealedKey
    /// `--ssh-once`: the relay releases `sealed` once, then forgets it.
    public var once: Bool

    public init(kdf: SSHKDFParams, verifier: String, sealed: SSHSealedKey, once: Bool) {
        self.kdf = kdf
        self.verifier = verifier
        self.sealed = sealed
        self.once = once
    }

    /// Bounds a relay enforces on an uploaded blob (it stores it in memory per share).
    public var isWellFormed: Bool {
        kdf.isAcceptable && (Data(base64Encoded: verifier)?.count ?? 0) == 32
            && sealed.cipher == "aes-256-gcm" && (Data(base64Encoded: sealed.nonce)?.count ?? 0) == 12
            && sealed.ciphertext.utf8.count <= 64 * 1024
    }
}

/// The sealed plaintext: an OpenSSH private key, the machine's host public keys, the SSH user and
/// port. A length-prefixed binary record (not JSON) so every byte of it lives in one `[UInt8]` the
/// caller can wipe after use.
///
///     "vshare-ssh-1" | u32 len | private key | u32 len | host keys (lines) | u32 len | user | u16 port
public struct SSHKeyRecord: Equatable, Sendable {
    public var privateKey: [UInt8]
    public var hostKeys: [String]
    public var user: String
    public var port: UInt16

    public init(privateKey: [UInt8], hostKeys: [String], user: String, port: UInt16) {
        self.privateKey = privateKey
        self.hostKeys = hostKeys
        self.user = user
        self.port = port
    }

    static let magic = Array("vshare-ssh-1".utf8)

    public func encoded() -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(out.count + privateKey.count + 1024)
        func field(_ bytes: [UInt8]) {
            out.appendBigEndian(UInt32(bytes.count))
            out += bytes
        }
        field(privateKey)
        field(Array(hostKeys.joined(separator: "\n").utf8))
        field(Array(user.utf8))
        out.appendBigEndian(port)
        return out
    }

    public static func decode(_ bytes: [UInt8]) -> SSHKeyRecord? {
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else { return nil }
        var index = magic.count
        func field() -> [UInt8]? {
            guard bytes.count - index >= 4 else { return nil }
            let n = Int(bytes.bigEndianUInt32(at: index))
            index += 4
            guard bytes.count - index >= n else { return nil }
            defer { index += n }
            return Array(bytes[index..<(index + n)])
        }
        guard let key = field(), let hosts = field(), let user = field(), bytes.count - index == 2,
              let hostText = String(bytes: hosts, encoding: .utf8), let userText = String(bytes: user, encoding: .utf8) else {
            return nil
        }
        let port = bytes.bigEndianUInt16(at: index)
        let lines = hostText.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        return SSHKeyRecord(privateKey: key, hostKeys: lines, user: userText, port: port)
    }
}

/// Compares two byte strings in time that depends only on their lengths, not on where they differ.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count { difference |= a[i] ^ b[i] }
    return difference == 0
}
