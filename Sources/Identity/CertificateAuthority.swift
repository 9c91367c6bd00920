import CInterop
import COpenSSL
import CShims
import Glibc
import Wire

/// Creates on first start, and reuses afterwards, the relay's private CA, server certificate and owner token.
///
/// Layout of `dataDir` (0700): `ca-key.pem` (0600), `ca.pem`, `server-key.pem` (0600), `server.pem`, `token` (0600),
/// and an empty `.lock` (0600) that serializes concurrent starts.
/// All keys are EC P-256; certificates are signed with SHA-256.
public enum CertificateAuthority {
    static let caValidityDays = 3_650
    static let serverValidityDays = 730
    /// notBefore is set this far in the past to tolerate clock skew between relay and agents.
    static let backdateSeconds = 3_600
    /// A server certificate expiring sooner than this is reissued at start.
    static let renewBeforeSeconds = 30 * 86_400

    public static func loadOrCreate(dataDir: String, hostnames: [String]) throws -> RelayIdentity {
        let names = try SubjectAltNames(requested: hostnames)
        try PEMFiles.makeDirectory(dataDir)
        // Serialize concurrent starts on one data directory (two relays, or threads in tests), so
        // they cannot each create half of a CA. flock is released when the descriptor is closed.
        let lock = try PEMFiles.lockDirectory(dataDir)
        defer { close(lock) }
        let caCertPath = dataDir + "/ca.pem"
        let caKeyPath = dataDir + "/ca-key.pem"
        let serverCertPath = dataDir + "/server.pem"
        let serverKeyPath = dataDir + "/server-key.pem"
        let tokenPath = dataDir + "/token"

        // CA: create both or load both; never replace half of it silently.
        let (caKey, caCert): (OpaquePointer, OpaquePointer)
        switch (PEMFiles.exists(caCertPath), PEMFiles.exists(caKeyPath)) {
        case (false, false):
            (caKey, caCert) = try createCA()
            do {
                try PEMFiles.writePrivateKey(caKey, path: caKeyPath)
                try PEMFiles.writeCertificate(caCert, path: caCertPath)
            } catch {
                // Neither file existed before: remove whatever was written so the next start is not
                // stuck with half a CA (which it would refuse to replace).
                unlink(caKeyPath)
                unlink(caCertPath)
                EVP_PKEY_free(caKey)
                X509_free(caCert)
                throw error
            }
        case (true, false):
            throw CertificateAuthorityError.incompleteCA(present: caCertPath, missing: caKeyPath)
        case (false, true):
            throw CertificateAuthorityError.incompleteCA(present: caKeyPath, missing: caCertPath)
        case (true, true):
            let key = try PEMFiles.readPrivateKey(path: caKeyPath)
            let cert: OpaquePointer
            do { cert = try PEMFiles.readCertificate(path: caCertPath) } catch { EVP_PKEY_free(key); throw error }
            (caKey, caCert) = (key, cert)
            guard X509_check_private_key(caCert, caKey) == 1 else {
                EVP_PKEY_free(caKey)
                X509_free(caCert)
                ERR_clear_error()
                throw CertificateAuthorityError.mismatchedFiles("\(caKeyPath) is not the key of \(caCertPath)")
            }
        }
        defer {
            EVP_PKEY_free(caKey)
            X509_free(caCert)
        }

        // Server key and certificate: reuse while valid, issued by this CA and covering every requested name.
        let keyIsNew = !PEMFiles.exists(serverKeyPath)
        let serverKey = keyIsNew ? try generateKey() : try PEMFiles.readPrivateKey(path: serverKeyPath)
        defer { EVP_PKEY_free(serverKey) }

        // server.pem is derived data (clients pin the CA, not it): an unreadable one is simply reissued.
        let oldCert = PEMFiles.exists(serverCertPath) ? try? PEMFiles.readCertificate(path: serverCertPath) : nil
        defer { if let oldCert { X509_free(oldCert) } }
        ERR_clear_error()
        let reissue = keyIsNew || oldCert.map { !serverCertificateIsUsable($0, key: serverKey, caCert: caCert, names: names) } ?? true
        if reissue {
            // Keep names the old certificate (if issued by this CA) covered, so adding a hostname
            // never drops one that clients use.
            var covering = names
            if let oldCert, X509_verify(oldCert, X509_get0_pubkey(caCert)) == 1 {
                covering.merge(subjectAltNames(of: oldCert))
            }
            ERR_clear_error()
            if keyIsNew { try PEMFiles.writePrivateKey(serverKey, path: serverKeyPath) }
            let cert = try issueServerCertificate(key: serverKey, names: covering, caCert: caCert, caKey: caKey)
            defer { X509_free(cert) }
            try PEMFiles.writeCertificate(cert, path: serverCertPath)
        }

        // Owner token.
        let token: String
        if PEMFiles.exists(tokenPath) {
            token = try readToken(path: tokenPath)
        } else {
            token = try randomHex(bytes: 32)
            try PEMFiles.atomicWrite(path: tokenPath, string: token + "\n", mode: 0o600)
        }

        return RelayIdentity(caCertificatePath: caCertPath, certificatePath: serverCertPath,
                             privateKeyPath: serverKeyPath, token: token)
    }

    /// Reads a token file, trimming surrounding whitespace.
    /// Why a directory of secrets with this owner and mode is not safe for `user`, or nil.
    public static func unsafeDirectoryProblem(owner: uid_t, mode: mode_t,
                                              user: uid_t) -> CertificateAuthorityError.DirectoryProblem? {
        if owner != user { return .owner(uid: owner, user: user) }
        if mode & 0o077 != 0 { return .mode(mode & 0o7777) }
        return nil
    }

    public static func readToken(path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CertificateAuthorityError.badToken(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CertificateAuthorityError.badToken(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > 64 * 1024 {
                throw CertificateAuthorityError.badToken(path: path, reason: "file is larger than 64 KiB")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CertificateAuthorityError.badToken(path: path, reason: "not UTF-8 text")
        }
        let token = String(text.trimmingASCIIWhitespace())
        guard !token.isEmpty else { throw CertificateAuthorityError.badToken(path: path, reason: "file is empty") }
        return token
    }

    /// The subjectAltName entries of a PEM certificate, as `DNS:name` / `IP:address` strings
    /// (IP addresses in canonical inet_ntop form). For diagnostics and tests.
    public static func subjectAltNames(certificatePath: String) throws -> [String] {
        let cert = try PEMFiles.readCertificate(path: certificatePath)
        defer { X509_free(cert) }
        return subjectAltNames(of: cert).entries
    }
}
