import CShims
import COpenSSL
import Glibc

/// A configured `SSL_CTX`: TLS 1.3, or 1.2 with AEAD suites only. Shared read-only by all loops.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    public let isServer: Bool
    /// Made by `externalPSK`: each session is keyed by its own pre-shared key, never by a certificate.
    let usesExternalPSK: Bool

    private init(isServer: Bool, usesExternalPSK: Bool = false) throws(TLSError) {
        guard let ctx = SSL_CTX_new(isServer ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError("cannot create a TLS context")
        }
        context = ctx
        self.isServer = isServer
        self.usesExternalPSK = usesExternalPSK
        _ = vshare_SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)
        // TLS 1.2 only with forward-secret AEAD suites; TLS 1.3 suites are all AEAD.
        SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20")
        // TLS 1.3: AES-128-GCM first (the suite every TLS 1.3 peer must implement; 128-bit keys are
        // far beyond brute force), AES-256-GCM and ChaCha20 still offered. Ten AES rounds instead of
        // fourteen: the relay decrypts and re-encrypts every byte, so this is measurable (BENCHMARKS).
        SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256")
        _ = vshare_SSL_CTX_set_mode(ctx, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        // Read ahead into a 64 KiB buffer: one recv for many small records instead of two per record
        // (header, then body). TLSConnection checks SSL_has_pending before trusting epoll again.
        SSL_CTX_ctrl(ctx, SSL_CTRL_SET_READ_AHEAD, 1, nil)
        // A peer process that dies closes TCP without close_notify. The tunnel's own framing already
        // detects truncation, so report that as the peer closing rather than as a TLS failure.
        vshare_SSL_CTX_ignore_unexpected_eof(ctx)
        SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024)
    }

    deinit { SSL_CTX_free(context) }

    /// A server context presenting `certificatePath` (PEM chain) with `keyPath`.
    public static func server(certificatePath: String, keyPath: String) throws(TLSError) -> TLSContext {
        let tls = try TLSContext(isServer: true)
        guard SSL_CTX_use_certificate_chain_file(tls.context, certificatePath) == 1 else {
            throw TLSError("cannot load the certificate \(certificatePath)")
        }
        guard SSL_CTX_use_PrivateKey_file(tls.context, keyPath, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError("cannot load the private key \(keyPath)")
        }
        guard SSL_CTX_check_private_key(tls.context) == 1 else {
            throw TLSError("the private key \(keyPath) does not match the certificate \(certificatePath)")
        }
        return tls
    }

    /// A client context that verifies the server against `caPath`, or the system trust store when nil.
    public static func client(caPath: String?) throws(TLSError) -> TLSContext {
        let tls = try TLSContext(isServer: false)
        if let caPath {
            guard SSL_CTX_load_verify_locations(tls.context, caPath, nil) == 1 else {
                throw TLSError("cannot load the relay CA certificate \(caPath)")
            }
        } else {
            guard SSL_CTX_set_default_verify_paths(tls.context) == 1 else {
                throw TLSError("cannot load the system trust store")
            }
        }
        SSL_CTX_set_verify(tls.context, SSL_VERIFY_PEER, nil)
        return tls
    }

    /// The end-to-end session of a connect client (`isServer` false) and a share agent (true): TLS 1.3
    /// keyed by the key their pairing agreed on, which each connection gets with `TLSConnection(…psk:)`;
    /// the relay between them only forwards bytes. Neither side has a certificate, and the client
    /// refuses one (a relay could present one): its trust store is empty, and a handshake that did not
    /// use the key fails (`TLSConnection`). ECDHE still runs in every handshake (psk_dhe_ke), so the
    /// traffic stays secret even if the key leaks later. Only SHA-256 suites: the PSK is bound to one
    /// hash, and a suite with another could not use it.
    public static func externalPSK(isServer: Bool) throws(TLSError) -> TLSContext {
        let tls = try TLSContext(isServer: isServer, usesExternalPSK: true)
        guard vshare_SSL_CTX_set_min_proto_version(tls.context, TLS1_3_VERSION) == 1,
              vshare_SSL_CTX_set_max_proto_version(tls.context, TLS1_3_VERSION) == 1,
              SSL_CTX_set_ciphersuites(tls.context, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256") == 1,
              vshare_SSL_CTX_use_external_psk(tls.context) == 1 else {
            throw TLSError("cannot configure the end-to-end TLS context")
        }
        if !isServer {
            // Nothing loaded into the store: any certificate the server presents fails verification.
            SSL_CTX_set_verify(tls.context, SSL_VERIFY_PEER, nil)
        }
        return tls
    }

    /// A new `SSL` for one connection. Clients check the server's name (DNS or IP) against `peerName`.
    /// `psk`: the pairing's key (at least 16 bytes), for and only for an `externalPSK` context; the
    /// TLS PSK is derived from it in OpenSSL's memory (vshare_SSL_set_external_psk), no copy is kept.
    func makeSession(fd: Int32, peerName: String?, psk: [UInt8]? = nil) throws(TLSError) -> OpaquePointer {
        if usesExternalPSK {
            guard let psk, psk.count >= 16 else {
                throw TLSError("an end-to-end TLS session needs the pairing's key (16 bytes or more)", detail: "")
            }
        } else if psk != nil {
            throw TLSError("a pre-shared key needs a context made by TLSContext.externalPSK", detail: "")
        }
        guard let ssl = SSL_new(context) else { throw TLSError("cannot create a TLS session") }
        if let psk, vshare_SSL_set_external_psk(ssl, psk, psk.count) != 1 {
            SSL_free(ssl)
            throw TLSError("cannot set the session key of a TLS session")
        }
        SSL_set_fd(ssl, fd)
        if isServer {
            SSL_set_accept_state(ssl)
        } else {
            if let peerName {
                var v4 = in_addr(), v6 = in6_addr()
                if inet_pton(AF_INET, peerName, &v4) == 1 || inet_pton(AF_INET6, peerName, &v6) == 1 {
                    guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), peerName) == 1 else {
                        SSL_free(ssl)
                        throw TLSError("cannot set the address \(peerName) to check the relay's certificate against")
                    }
                } else {
                    // Unchecked, a failure here would leave the name unset and any certificate the CA
                    // signed would pass for this host.
                    guard SSL_set1_host(ssl, peerName) == 1 else {
                        SSL_free(ssl)
                        throw TLSError("cannot set the name \(peerName) to check the relay's certificate against")
                    }
                    _ = vshare_SSL_set_tlsext_host_name(ssl, peerName)
                }
            }
            SSL_set_connect_state(ssl)
        }
        return ssl
    }
}
