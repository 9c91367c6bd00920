// OpenSSL function-like macros, which do not import into Swift.
#ifndef VSHARE_OPENSSL_SHIMS_H
#define VSHARE_OPENSSL_SHIMS_H
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/evp.h>

int vshare_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
int vshare_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
long vshare_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
int vshare_SSL_set_tlsext_host_name(SSL *ssl, const char *name);
long vshare_BIO_pending(BIO *bio);
long vshare_BIO_set_mem_eof_return(BIO *bio, int value);
void vshare_OPENSSL_free(void *ptr);
/// Treats a TCP close without close_notify as a clean end of stream (SSL_OP_IGNORE_UNEXPECTED_EOF).
void vshare_SSL_CTX_ignore_unexpected_eof(SSL_CTX *ctx);
/// Generates a fresh P-256 key pair.
EVP_PKEY *vshare_generate_ec_key(void);
#endif
