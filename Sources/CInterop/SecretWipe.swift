import COpenSSL

/// Overwrites secret bytes in place with OPENSSL_cleanse, which the compiler may not optimize away:
/// the one wipe for keys, passwords and derived secrets (SSH sharing, pairing).
public func wipeSecret(_ bytes: inout [UInt8]) {
    let count = bytes.count
    bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { OPENSSL_cleanse(base, count) } }
}
