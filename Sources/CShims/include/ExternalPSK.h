// TLS 1.3 keyed by an external pre-shared key (RFC 8446 §2.2) instead of a certificate: the
// end-to-end session of a connect client and a share agent, keyed by their pairing, across a relay
// that only forwards bytes. OpenSSL's PSK callbacks take C function pointers and build
// SSL_SESSION objects, hence C.
#ifndef VSHARE_EXTERNAL_PSK_H
#define VSHARE_EXTERNAL_PSK_H
#include <stddef.h>
#include <openssl/ssl.h>

/// Makes every SSL of `ctx` offer (client) or accept (server) the key set with
/// vshare_SSL_set_external_psk, under the fixed identity "vshare-e2e-v1", with TLS_AES_128_GCM_SHA256,
/// and never issue session tickets. psk_dhe_ke only (SSL_OP_ALLOW_NO_DHE_KEX stays off): every
/// session still runs ECDHE, so a key that leaks later does not decrypt recorded sessions.
/// 1 on success, 0 on failure.
int vshare_SSL_CTX_use_external_psk(SSL_CTX *ctx);

/// Keys `ssl` with the 32-byte PSK HKDF-SHA256(IKM: key, salt: none, info: "vshare e2e tls psk v1")
/// (RFC 5869). The PSK lives only in OpenSSL-allocated memory, wiped when `ssl` is freed; the caller
/// keeps (and wipes) `key`. 1 on success, 0 on failure (empty key, allocation, KDF).
int vshare_SSL_set_external_psk(SSL *ssl, const unsigned char *key, size_t len);

/// Whether the handshake failure just recorded in the thread's OpenSSL error queue (not drained)
/// says the two sides hold different PSKs: the server found that the client's PSK binder does not
/// verify, or the client received the alert the server sends for it (illegal_parameter or
/// decrypt_error, depending on the server's OpenSSL version).
int vshare_ERR_peek_external_psk_mismatch(void);
#endif
