import Foundation

/// OpenSSH's key encodings for Ed25519, pure: the `authorized_keys` line and the unencrypted
/// `openssh-key-v1` private key (PROTOCOL.key in OpenSSH's sources). The private key text is built
/// in a `[UInt8]` the caller wipes; it is only ever handed to `ssh-add` through a pipe.
public enum OpenSSHKeyFormat {
    static let keyType = "ssh-ed25519"

    /// The public key blob: string "ssh-ed25519", string key.
    public static func publicBlob(_ publicKey: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        appendString(&out, Array(keyType.utf8))
        appendString(&out, publicKey)
        return out
    }

    /// `ssh-ed25519 BASE64 comment`
    public static func authorizedKeyLine(publicKey: [UInt8], comment: String) -> String {
        "\(keyType) \(Data(publicBlob(publicKey)).base64EncodedString()) \(comment)"
    }

    /// A shared key's authorized_keys options: no agent or X11 forwarding for whoever logs in with
    /// it, and sshd itself refuses it after `expiry` (seconds since 1970, written in UTC with the
    /// `Z` suffix so the machine's time zone does not matter; OpenSSH ≥ 8.2 reads `expiry-time`).
    /// Even a key the agent never got to remove (killed, machine unreachable) stops working then.
    public static func restrictedKeyOptions(expiry: Int) -> String {
        var seconds = time_t(expiry)
        var t = tm()
        gmtime_r(&seconds, &t)
        let stamp = String(format: "%04d%02d%02d%02d%02d%02d", Int(t.tm_year) + 1900, Int(t.tm_mon) + 1,
                           Int(t.tm_mday), Int(t.tm_hour), Int(t.tm_min), Int(t.tm_sec))
        return "no-agent-forwarding,no-X11-forwarding,expiry-time=\"\(stamp)Z\""
    }

    /// The PEM-armoured `openssh-key-v1` private key, cipher and KDF "none", one key.
    /// `checkInt` is random in OpenSSH (it only detects a wrong passphrase); tests pass a fixed one.
    public static func privateKey(seed: [UInt8], publicKey: [UInt8], comment: String, checkInt: UInt32) -> [UInt8] {
        precondition(seed.count == 32 && publicKey.count == 32)
        var body: [UInt8] = Array("openssh-key-v1".utf8) + [0]
        appendString(&body, Array("none".utf8))   // cipher
        appendString(&body, Array("none".utf8))   // kdf
        appendString(&body, [])                   // kdf options
        body.appendBigEndian(UInt32(1))                    // number of keys
        appendString(&body, publicBlob(publicKey))
        var secret: [UInt8] = []
        secret.appendBigEndian(UInt32(checkInt))
        secret.appendBigEndian(UInt32(checkInt))
        appendString(&secret, Array(keyType.utf8))
        appendString(&secret, publicKey)
        var pair = seed + publicKey
        appendString(&secret, pair)
        Secret.wipe(&pair)
        appendString(&secret, Array(comment.utf8))
        var pad: UInt8 = 1
        while secret.count % 8 != 0 { secret.append(pad); pad += 1 }
        appendString(&body, secret)
        Secret.wipe(&secret)
        var encoded = Array(Data(body).base64EncodedData())
        Secret.wipe(&body)
        var out = Array("-----BEGIN OPENSSH PRIVATE KEY-----\n".utf8)
        var index = 0
        while index < encoded.count {
            let end = min(index + 70, encoded.count)
            out += encoded[index..<end]
            out.append(UInt8(ascii: "\n"))
            index = end
        }
        Secret.wipe(&encoded)
        out += Array("-----END OPENSSH PRIVATE KEY-----\n".utf8)
        return out
    }

    /// A host public key line as `cat /etc/ssh/ssh_host_*_key.pub` prints it, reduced to
    /// `TYPE BASE64` (the comment is dropped); nil when it is not one.
    public static func hostKey(fromLine line: String) -> String? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2 else { return nil }
        let type = String(fields[0]), base64 = String(fields[1])
        let known = ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"]
        guard known.contains(type), let blob = Data(base64Encoded: base64), blob.count >= 4 + type.utf8.count else { return nil }
        // The blob starts with its own type string: a line whose two halves disagree is not a key.
        let bytes = [UInt8](blob)
        let n = Int(bytes.bigEndianUInt32(at: bytes.startIndex))
        guard n == type.utf8.count, Array(bytes[4..<(4 + n)]) == Array(type.utf8) else { return nil }
        return "\(type) \(base64)"
    }

    static func appendString(_ out: inout [UInt8], _ bytes: [UInt8]) {
        out.appendBigEndian(UInt32(bytes.count))
        out += bytes
    }
}
