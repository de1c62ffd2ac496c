#ifndef TOKENBRIDGE_COPENSSL_H
#define TOKENBRIDGE_COPENSSL_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <openssl/crypto.h>

// Functions that OpenSSL defines as macros, which Swift cannot call.
int tb_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
int tb_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
long tb_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
long tb_SSL_CTX_set_options(SSL_CTX *ctx, long options);
long tb_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode);
int tb_SSL_set_tlsext_host_name(SSL *ssl, const char *name);

#endif
