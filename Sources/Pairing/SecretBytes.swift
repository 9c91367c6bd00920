import COpenSSL

/// Overwrites secret bytes in place with OPENSSL_cleanse, which the compiler may not optimize away.
/// (SSHKeys has the same helper; Pairing does not depend on SSH sharing, so it keeps its own.)
func cleanse(_ bytes: inout [UInt8]) {
    let count = bytes.count
    bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { OPENSSL_cleanse(base, count) } }
}
