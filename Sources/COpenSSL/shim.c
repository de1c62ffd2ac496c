#include "COpenSSL.h"
#include <string.h>

int tb_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

int tb_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

long tb_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

long tb_SSL_CTX_set_options(SSL_CTX *ctx, long options) {
    return (long)SSL_CTX_set_options(ctx, (uint64_t)options);
}

long tb_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

int tb_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

int tb_SSL_CTX_set_dh_auto(SSL_CTX *ctx, int on) {
    return (int)SSL_CTX_set_dh_auto(ctx, on);
}

int tb_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}

static const unsigned char http11_wire[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };

static int select_http11(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                         const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl;
    (void)arg;
    unsigned char *selected = NULL;
    unsigned char selected_length = 0;
    int result = SSL_select_next_proto(&selected, &selected_length, http11_wire, sizeof(http11_wire),
                                       in, inlen);
    if (result != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = selected;
    *outlen = selected_length;
    return SSL_TLSEXT_ERR_OK;
}

void tb_SSL_CTX_select_alpn_http11(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, select_http11, NULL);
}

static long note_socket_read(BIO *bio, int operation, const char *argp, size_t length, int argi, long argl,
                             int result, size_t *processed) {
    (void)argp;
    (void)argi;
    (void)argl;
    if (operation == (BIO_CB_READ | BIO_CB_RETURN)) {
        int *short_read = (int *)BIO_get_callback_arg(bio);
        if (short_read != NULL) {
            *short_read = (result > 0 && processed != NULL && *processed < length) ? 1 : 0;
        }
    }
    return result;
}

int tb_SSL_watch_socket_reads(SSL *ssl, int *short_read) {
    BIO *bio = SSL_get_rbio(ssl);
    if (bio == NULL) {
        return 0;
    }
    BIO_set_callback_arg(bio, (char *)short_read);
    BIO_set_callback_ex(bio, note_socket_read);
    return 1;
}

const long tb_SSL_OP_NO_RENEGOTIATION = (long)SSL_OP_NO_RENEGOTIATION;
const long tb_SSL_OP_IGNORE_UNEXPECTED_EOF = (long)SSL_OP_IGNORE_UNEXPECTED_EOF;
const long tb_SSL_OP_NO_COMPRESSION = (long)SSL_OP_NO_COMPRESSION;
const long tb_SSL_OP_CIPHER_SERVER_PREFERENCE = (long)SSL_OP_CIPHER_SERVER_PREFERENCE;
const long tb_SSL_MODE_RELEASE_BUFFERS = (long)SSL_MODE_RELEASE_BUFFERS;
const long tb_SSL_MODE_ENABLE_PARTIAL_WRITE = (long)SSL_MODE_ENABLE_PARTIAL_WRITE;
const long tb_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = (long)SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
const long tb_SSL_SESS_CACHE_SERVER = (long)SSL_SESS_CACHE_SERVER;
const long tb_SSL_SESS_CACHE_CLIENT = (long)SSL_SESS_CACHE_CLIENT;
