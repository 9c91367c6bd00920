import CInterop
import COpenSSL
import CShims
import Glibc
import Wire

/// Making and checking X.509 certificates with libcrypto: the CA, the relay's server certificate,
/// whether an existing certificate still fits, and the random serials and tokens they need.
extension CertificateAuthority {
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
                    (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),   // it signs servers, never another CA
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
        return Hex.encode(bytes)
    }
}
