import CInterop
import COpenSSL
import CShims
import Glibc
import Wire

/// The relay's TLS identity on disk: a private CA, a server certificate it signed, and the owner token.
public struct RelayIdentity: Sendable {
    /// `ca.pem`: what agents pin (`--ca`) to trust the relay.
    public let caCertificatePath: String
    /// `server.pem`: the relay's TLS certificate, signed by the CA.
    public let certificatePath: String
    /// `server-key.pem`: the key of `certificatePath` (mode 0600).
    public let privateKeyPath: String
    /// The owner token (64 hex digits, 256 bits from RAND_bytes), also stored in `token` (mode 0600).
    public let token: String

    public init(caCertificatePath: String, certificatePath: String, privateKeyPath: String, token: String) {
        self.caCertificatePath = caCertificatePath
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.token = token
    }
}

public enum CertificateAuthorityError: Error, CustomStringConvertible {
    /// A system call on a file or directory failed.
    case fileSystem(operation: String, path: String, errno: Int32)
    /// An OpenSSL call failed; `detail` is OpenSSL's error queue.
    case openSSL(operation: String, detail: String)
    /// A PEM file exists but could not be parsed.
    case malformedFile(path: String, detail: String)
    /// `ca.pem` exists but its key does not (or the other way round); regenerating would break pinned clients.
    case incompleteCA(present: String, missing: String)
    /// `ca-key.pem` does not belong to `ca.pem`, or `server.pem` was not issued by it.
    case mismatchedFiles(String)
    /// A hostname that is neither a DNS name nor an IP literal.
    case invalidHostname(String)
    /// The token file is missing, unreadable or empty.
    case badToken(path: String, reason: String)

    public var description: String {
        switch self {
        case let .fileSystem(operation, path, code):
            return "\(operation) \(path) failed: \(String(cString: strerror(code))) (errno \(code)). "
                + "Check that the data directory exists, is writable by this user and is on a local file system."
        case let .openSSL(operation, detail):
            return "OpenSSL could not \(operation): \(detail). This is unexpected; check that libssl3 is installed and intact."
        case let .malformedFile(path, detail):
            return "\(path) is not a valid PEM file (\(detail)). Restore it from a backup, or delete it so the relay creates a new one "
                + "(a new CA means every agent must fetch the new ca.pem)."
        case let .incompleteCA(present, missing):
            return "\(present) exists but \(missing) is missing, so the relay cannot sign certificates with its CA. "
                + "Restore \(missing), or delete \(present) to create a new CA (agents must then fetch the new ca.pem)."
        case let .mismatchedFiles(what):
            return "\(what). Restore the matching files, or delete the data directory's PEM files to start over."
        case let .invalidHostname(name):
            return "\"\(name)\" is neither a DNS name nor an IPv4/IPv6 address; pass the names clients use to reach the relay "
                + "(for example relay.example.com or 203.0.113.7)."
        case let .badToken(path, reason):
            return "cannot read the owner token from \(path): \(reason). Delete it to let the relay create a new one."
        }
    }
}

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

    // MARK: - Building certificates

    static func generateKey() throws -> OpaquePointer {
        guard let key = vshare_generate_ec_key() else {
            throw CertificateAuthorityError.openSSL(operation: "generate an EC P-256 key", detail: OpenSSLError.drain())
        }
        return key
    }

    static func createCA() throws -> (key: OpaquePointer, cert: OpaquePointer) {
        let key = try generateKey()
        do {
            let cn = "vshare relay CA " + (try randomHex(bytes: 8))
            let cert = try newCertificate(subjectCN: cn, publicKey: key, validityDays: caValidityDays)
            do {
                guard X509_set_issuer_name(cert, X509_get_subject_name(cert)) == 1 else {
                    throw CertificateAuthorityError.openSSL(operation: "set the CA issuer name", detail: OpenSSLError.drain())
                }
                try addExtensions(to: cert, issuer: cert, [
                    (NID_basic_constraints, "critical,CA:TRUE"),
                    (NID_key_usage, "critical,keyCertSign,cRLSign"),
                    (NID_subject_key_identifier, "hash"),
                ])
                try sign(cert, with: key)
                return (key, cert)
            } catch {
                X509_free(cert)
                throw error
            }
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
    }

    static func issueServerCertificate(key: OpaquePointer, names: SubjectAltNames,
                                       caCert: OpaquePointer, caKey: OpaquePointer) throws -> OpaquePointer {
        let cert = try newCertificate(subjectCN: names.commonName, publicKey: key, validityDays: serverValidityDays)
        do {
            guard X509_set_issuer_name(cert, X509_get_subject_name(caCert)) == 1 else {
                throw CertificateAuthorityError.openSSL(operation: "set the issuer name", detail: OpenSSLError.drain())
            }
            try addExtensions(to: cert, issuer: caCert, [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "serverAuth,clientAuth"),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
                (NID_subject_alt_name, names.entries.joined(separator: ",")),
            ])
            try sign(cert, with: caKey)
            return cert
        } catch {
            X509_free(cert)
            throw error
        }
    }

    /// A v3 certificate with subject CN, random 128-bit serial, public key and validity set.
    private static func newCertificate(subjectCN: String, publicKey: OpaquePointer, validityDays: Int) throws -> OpaquePointer {
        guard let cert = X509_new() else {
            throw CertificateAuthorityError.openSSL(operation: "allocate a certificate", detail: OpenSSLError.drain())
        }
        do {
            guard X509_set_version(cert, 2) == 1 else {  // 2 means v3
                throw CertificateAuthorityError.openSSL(operation: "set the certificate version", detail: OpenSSLError.drain())
            }
            try setRandomSerial(cert)
            guard X509_time_adj_ex(X509_getm_notBefore(cert), 0, -backdateSeconds, nil) != nil,
                  X509_time_adj_ex(X509_getm_notAfter(cert), Int32(validityDays), 0, nil) != nil
            else {
                throw CertificateAuthorityError.openSSL(operation: "set the validity period", detail: OpenSSLError.drain())
            }
            guard let name = X509_NAME_new() else {
                throw CertificateAuthorityError.openSSL(operation: "allocate a name", detail: OpenSSLError.drain())
            }
            defer { X509_NAME_free(name) }
            guard X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, subjectCN, -1, -1, 0) == 1,
                  X509_set_subject_name(cert, name) == 1  // copies the name
            else {
                throw CertificateAuthorityError.openSSL(operation: "set the subject name \"\(subjectCN)\"", detail: OpenSSLError.drain())
            }
            guard X509_set_pubkey(cert, publicKey) == 1 else {
                throw CertificateAuthorityError.openSSL(operation: "set the public key", detail: OpenSSLError.drain())
            }
            return cert
        } catch {
            X509_free(cert)
            throw error
        }
    }

    private static func setRandomSerial(_ cert: OpaquePointer) throws {
        guard let bn = BN_new() else {
            throw CertificateAuthorityError.openSSL(operation: "allocate a serial number", detail: OpenSSLError.drain())
        }
        defer { BN_free(bn) }
        // 128 random bits; positive by construction (BN_rand yields a non-negative number).
        guard BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1,
              BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nil
        else {
            throw CertificateAuthorityError.openSSL(operation: "set a random serial number", detail: OpenSSLError.drain())
        }
    }

    private static func addExtensions(to cert: OpaquePointer, issuer: OpaquePointer, _ extensions: [(Int32, String)]) throws {
        var ctx = X509V3_CTX()
        X509V3_set_ctx(&ctx, issuer, cert, nil, nil, 0)
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &ctx, nid, value) else {
                let name = String(cString: OBJ_nid2sn(nid))
                throw CertificateAuthorityError.openSSL(operation: "build extension \(name)=\(value)", detail: OpenSSLError.drain())
            }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(cert, ext, -1) == 1 else {
                throw CertificateAuthorityError.openSSL(operation: "add an extension", detail: OpenSSLError.drain())
            }
        }
    }

    private static func sign(_ cert: OpaquePointer, with key: OpaquePointer) throws {
        guard X509_sign(cert, key, EVP_sha256()) > 0 else {
            throw CertificateAuthorityError.openSSL(operation: "sign a certificate", detail: OpenSSLError.drain())
        }
    }

    // MARK: - Checking an existing server certificate

    /// True when `cert` belongs to `key`, was signed by the CA, is not near expiry and covers every requested name.
    static func serverCertificateIsUsable(_ cert: OpaquePointer, key: OpaquePointer, caCert: OpaquePointer,
                                          names: SubjectAltNames) -> Bool {
        defer { ERR_clear_error() }
        guard X509_check_private_key(cert, key) == 1,
              X509_verify(cert, X509_get0_pubkey(caCert)) == 1,
              X509_check_issued(caCert, cert) == X509_V_OK
        else { return false }
        var soon = time(nil) + time_t(renewBeforeSeconds)
        guard X509_cmp_time(X509_get0_notAfter(cert), &soon) > 0 else { return false }
        return subjectAltNames(of: cert).contains(all: names)
    }

    static func subjectAltNames(of cert: OpaquePointer) -> SubjectAltNames {
        var result = SubjectAltNames()
        guard let raw = X509_get_ext_d2i(cert, NID_subject_alt_name, nil, nil) else {
            ERR_clear_error()
            return result
        }
        let stack = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(stack) }
        for i in 0..<OPENSSL_sk_num(stack) {
            guard let element = OPENSSL_sk_value(stack, i) else { continue }
            let name = element.assumingMemoryBound(to: GENERAL_NAME.self).pointee
            switch name.type {
            case GEN_DNS:
                if let text = asn1Bytes(name.d.dNSName).flatMap({ String(validating: $0, as: UTF8.self) }) {
                    result.append("DNS:" + text.lowercased())
                }
            case GEN_IPADD:
                if let bytes = asn1Bytes(name.d.iPAddress), let text = IPAddressText.format(bytes) {
                    result.append("IP:" + text)
                }
            default:
                continue
            }
        }
        return result
    }

    private static func asn1Bytes(_ string: UnsafeMutablePointer<ASN1_STRING>?) -> [UInt8]? {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return nil }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string))))
    }

    // MARK: - Randomness

    static func randomHex(bytes count: Int) throws -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else {
            throw CertificateAuthorityError.openSSL(operation: "draw random bytes", detail: OpenSSLError.drain())
        }
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The ordered, de-duplicated subjectAltName entries for the server certificate
/// (`DNS:localhost`, `IP:127.0.0.1`, then each requested name), in OpenSSL config syntax.
struct SubjectAltNames: Equatable {
    private(set) var entries: [String] = []
    /// The subject CN: the first requested hostname (or `localhost`).
    private(set) var commonName = "localhost"

    init() {}

    init(requested hostnames: [String]) throws {
        append("DNS:localhost")
        append("IP:127.0.0.1")
        var first: String?
        for raw in hostnames {
            var host = String(raw.trimmingASCIIWhitespace())
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if let ip = IPAddressText.canonical(host) {
                append("IP:" + ip)
                first = first ?? ip
            } else if let dns = Self.validDNSName(host) {
                append("DNS:" + dns)
                first = first ?? dns
            } else {
                throw CertificateAuthorityError.invalidHostname(raw)
            }
        }
        // X.509 caps CN at 64 characters; a longer name still lives in the SANs, which is what clients check.
        if let first, first.utf8.count <= 64 { commonName = first }
    }

    mutating func append(_ entry: String) {
        if !entries.contains(entry) { entries.append(entry) }
    }

    mutating func merge(_ other: SubjectAltNames) {
        for entry in other.entries { append(entry) }
    }

    func contains(all other: SubjectAltNames) -> Bool {
        other.entries.allSatisfy(entries.contains)
    }

    /// Lowercased DNS name if `host` is one (labels of letters, digits, `-`, `_`; optional leading `*.`), else nil.
    static func validDNSName(_ host: String) -> String? {
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty, name.utf8.count <= 253 else { return nil }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for (index, label) in labels.enumerated() {
            if index == 0, label == "*", labels.count > 2 { continue }
            guard (1...63).contains(label.utf8.count),
                  label.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }),
                  label.first != "-", label.last != "-"
            else { return nil }
        }
        // An all-numeric dotted name that inet_pton rejected (e.g. 1.2.3) is a typo, not a hostname.
        if labels.last!.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) { return nil }
        return name
    }
}

/// IPv4/IPv6 literal parsing and canonical formatting through inet_pton/inet_ntop.
enum IPAddressText {
    static func canonical(_ text: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { format(Array($0)) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { format(Array($0)) }
        }
        return nil
    }

    static func format(_ bytes: [UInt8]) -> String? {
        let family: Int32
        switch bytes.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? stringFromCBuffer(buffer) : nil
    }
}
