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
int tb_SSL_CTX_set_dh_auto(SSL_CTX *ctx, int on);
int tb_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list);
/// Sets the one ALPN protocol a server agrees to ("http/1.1"); a client offering only others is
/// refused with the no_application_protocol alert (RFC 7301 section 3.2).
void tb_SSL_CTX_select_alpn_http11(SSL_CTX *ctx);

/// Watches the raw reads OpenSSL makes from `ssl`'s socket: after each one, `*short_read` becomes 1
/// when it returned fewer bytes than asked for (the socket held no more at that moment), else 0.
/// `short_read` must outlive `ssl`. Returns 0 when `ssl` has no read BIO yet.
int tb_SSL_watch_socket_reads(SSL *ssl, int *short_read);

// Option and mode bits (macros built from casts that Swift does not import).
extern const long tb_SSL_OP_NO_RENEGOTIATION;
extern const long tb_SSL_OP_IGNORE_UNEXPECTED_EOF;
extern const long tb_SSL_OP_NO_COMPRESSION;
extern const long tb_SSL_OP_CIPHER_SERVER_PREFERENCE;
extern const long tb_SSL_MODE_RELEASE_BUFFERS;
extern const long tb_SSL_MODE_ENABLE_PARTIAL_WRITE;
extern const long tb_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
extern const long tb_SSL_SESS_CACHE_SERVER;
extern const long tb_SSL_SESS_CACHE_CLIENT;

#endif
