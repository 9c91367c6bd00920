#include "OpenSSLShims.h"
#include <openssl/ec.h>

int vshare_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
int vshare_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
long vshare_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
int vshare_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
long vshare_BIO_pending(BIO *bio) { return BIO_pending(bio); }
long vshare_BIO_set_mem_eof_return(BIO *bio, int value) { return BIO_set_mem_eof_return(bio, value); }
void vshare_OPENSSL_free(void *ptr) { OPENSSL_free(ptr); }
EVP_PKEY *vshare_generate_ec_key(void) { return EVP_EC_gen("P-256"); }
void vshare_SSL_CTX_ignore_unexpected_eof(SSL_CTX *ctx) { SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF); }
