// See ExternalPSK.h. The PSK is kept per SSL in ex_data (one pairing, one connection) and turned
// into a fresh SSL_SESSION each time OpenSSL asks: the session is OpenSSL's to free, and
// SSL_SESSION_free wipes its master key.
#include "ExternalPSK.h"
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>

// SHA-256 sized, the hash of the suite the PSK is bound to.
#define PSK_LENGTH 32

static const char psk_identity[] = "vshare-e2e-v1";
static const char psk_label[] = "vshare e2e tls psk v1";
// TLS_AES_128_GCM_SHA256.
static const unsigned char psk_suite[2] = {0x13, 0x01};

static CRYPTO_ONCE index_once = CRYPTO_ONCE_STATIC_INIT;
static int psk_index = -1;

static int dup_psk(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx, long argl, void *argp) {
    (void)to; (void)from; (void)idx; (void)argl; (void)argp;
    // SSL_dup would otherwise share one buffer between two SSLs, and free it twice.
    if (*from_d == NULL) return 1;
    *from_d = OPENSSL_memdup(*from_d, PSK_LENGTH);
    return *from_d != NULL;
}

static void free_psk(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    OPENSSL_clear_free(ptr, PSK_LENGTH);
}

static void make_index(void) { psk_index = SSL_get_ex_new_index(0, NULL, NULL, dup_psk, free_psk); }

static int external_psk_index(void) {
    if (!CRYPTO_THREAD_run_once(&index_once, make_index)) return -1;
    return psk_index;
}

static int derive_psk(const unsigned char *key, size_t len, unsigned char *out) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
    EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (kctx == NULL) return 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)psk_label, strlen(psk_label)),
        OSSL_PARAM_construct_end(),
    };
    // Freeing the KDF context wipes its copy of the key.
    int ok = EVP_KDF_derive(kctx, out, PSK_LENGTH, params) == 1;
    EVP_KDF_CTX_free(kctx);
    return ok;
}

int vshare_SSL_set_external_psk(SSL *ssl, const unsigned char *key, size_t len) {
    int index = external_psk_index();
    if (index < 0 || key == NULL || len == 0) return 0;
    unsigned char *psk = OPENSSL_malloc(PSK_LENGTH);
    if (psk == NULL) return 0;
    if (!derive_psk(key, len, psk)) {
        OPENSSL_clear_free(psk, PSK_LENGTH);
        return 0;
    }
    OPENSSL_clear_free(SSL_get_ex_data(ssl, index), PSK_LENGTH);
    if (!SSL_set_ex_data(ssl, index, psk)) {
        OPENSSL_clear_free(psk, PSK_LENGTH);
        return 0;
    }
    return 1;
}

/// A new session holding the PSK of `ssl`, or NULL (no PSK set, or no memory).
static SSL_SESSION *psk_session(SSL *ssl) {
    int index = external_psk_index();
    const unsigned char *psk = index >= 0 ? SSL_get_ex_data(ssl, index) : NULL;
    const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, psk_suite);
    if (psk == NULL || cipher == NULL) return NULL;
    SSL_SESSION *session = SSL_SESSION_new();
    if (session == NULL
        || !SSL_SESSION_set1_master_key(session, psk, PSK_LENGTH)
        || !SSL_SESSION_set_cipher(session, cipher)
        || !SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION)) {
        SSL_SESSION_free(session);
        return NULL;
    }
    return session;
}

// Client: offer the PSK. `md` is set on the second ClientHello after a HelloRetryRequest, with the
// hash of the suite the server chose; a PSK bound to another hash could not be used, and with no
// certificate to fall back on the handshake must fail rather than go on without it.
static int use_psk(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen, SSL_SESSION **sess) {
    *sess = NULL;
    if (md != NULL && EVP_MD_get_type(md) != NID_sha256) return 0;
    SSL_SESSION *session = psk_session(ssl);
    if (session == NULL) return 0;
    *id = (const unsigned char *)psk_identity;
    *idlen = strlen(psk_identity);
    *sess = session;
    return 1;
}

// Server: accept only our identity. Another one is ignored (no PSK; with no certificate to offer,
// the handshake then fails); a wrong key under our identity fails the binder check in OpenSSL.
static int find_psk(SSL *ssl, const unsigned char *identity, size_t identity_len, SSL_SESSION **sess) {
    *sess = NULL;
    if (identity_len != strlen(psk_identity) || memcmp(identity, psk_identity, identity_len) != 0) return 1;
    *sess = psk_session(ssl);
    return *sess != NULL;
}

int vshare_SSL_CTX_use_external_psk(SSL_CTX *ctx) {
    if (external_psk_index() < 0) return 0;
    // Each side only ever calls its own callback: clients `use`, servers `find`.
    SSL_CTX_set_psk_use_session_callback(ctx, use_psk);
    SSL_CTX_set_psk_find_session_callback(ctx, find_psk);
    // Every session is keyed by its own pairing: nothing to resume, so no tickets.
    return SSL_CTX_set_num_tickets(ctx, 0);
}

// The server's binder check is where two different keys first meet. The alert it sends for a binder
// that does not verify is illegal_parameter up to OpenSSL 3.0 and decrypt_error since 3.2. Neither can
// otherwise come from a vshare server that our own ClientHello reached intact.
static int is_psk_mismatch(unsigned long code) {
    if (ERR_GET_LIB(code) != ERR_LIB_SSL) return 0;
    int reason = ERR_GET_REASON(code);
    return reason == SSL_R_BINDER_DOES_NOT_VERIFY
        || reason == SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER
        || reason == SSL_R_TLSV1_ALERT_DECRYPT_ERROR;
}

int vshare_ERR_peek_external_psk_mismatch(void) {
    return is_psk_mismatch(ERR_peek_error()) || is_psk_mismatch(ERR_peek_last_error());
}
