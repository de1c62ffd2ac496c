import COpenSSL

/// Server-side TLS settings, loaded once and shared by every handshake that starts while it is
/// the server's current context (see `HTTPServer.reloadTLS`). Open connections keep the context
/// they started with; OpenSSL reference-counts it, so a replaced context lives until its last
/// connection ends.
///
/// Settings: TLS 1.2 and 1.3 only; for TLS 1.2 the Mozilla "intermediate" cipher list (ECDHE with
/// ECDSA or RSA and AES-GCM or ChaCha20-Poly1305, plus DHE-RSA with the same AEADs); TLS 1.3 keeps
/// OpenSSL's default suites (all AEAD). ALPN agrees to `http/1.1` only. Session tickets are on
/// (keys are random per context, so a reload starts fresh tickets). `SSL_MODE_RELEASE_BUFFERS`
/// frees record buffers while a connection is idle, so idle TLS connections stay small.
public final class TLSServerContext: @unchecked Sendable {
    /// The Mozilla "intermediate" TLS 1.2 cipher list (server-side configuration guidelines, v5).
    public static let intermediateCiphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    let context: OpaquePointer
    public let certificateChainFile: String

    /// Loads the certificate chain (leaf first, PEM) and its private key (PEM) and checks that they
    /// belong together.
    public init(certificateChainFile: String, privateKeyFile: String) throws(TLSError) {
        _ = TLSError.drainErrorQueue()
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw .drained("SSL_CTX_new") }
        self.context = context
        self.certificateChainFile = certificateChainFile
        // From here `deinit` frees the context if a step below throws.
        try TLSContextSettings.applyCommon(to: context)
        guard SSL_CTX_set_cipher_list(context, Self.intermediateCiphers) == 1 else {
            throw .drained("SSL_CTX_set_cipher_list")
        }
        guard tb_SSL_CTX_set1_groups_list(context, "X25519:prime256v1:secp384r1") == 1 else {
            throw .drained("SSL_CTX_set1_groups_list")
        }
        // DHE-RSA suites need parameters; "auto" picks a group matching the certificate strength.
        guard tb_SSL_CTX_set_dh_auto(context, 1) == 1 else { throw .drained("SSL_CTX_set_dh_auto") }
        tb_SSL_CTX_select_alpn_http11(context)
        _ = tb_SSL_CTX_set_session_cache_mode(context, tb_SSL_SESS_CACHE_SERVER)
        let sessionContext: [UInt8] = Array("tokenbridge".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))

        guard SSL_CTX_use_certificate_chain_file(context, certificateChainFile) == 1 else {
            throw .drained("SSL_CTX_use_certificate_chain_file", detail: certificateChainFile)
        }
        guard SSL_CTX_use_PrivateKey_file(context, privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
            throw .drained("SSL_CTX_use_PrivateKey_file", detail: privateKeyFile)
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw .drained("SSL_CTX_check_private_key", detail: "the key does not match the certificate")
        }
    }

    deinit {
        SSL_CTX_free(context)
    }
}

/// Settings shared by server and client contexts.
enum TLSContextSettings {
    static func applyCommon(to context: OpaquePointer) throws(TLSError) {
        guard tb_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1,
              tb_SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION) == 1 else {
            throw .drained("SSL_CTX_set_min_proto_version")
        }
        // Renegotiation is an attack surface HTTP/1.1 does not need; an EOF without close_notify is
        // reported as a clean end (HTTP framing detects truncation on its own).
        _ = tb_SSL_CTX_set_options(
            context, tb_SSL_OP_NO_RENEGOTIATION | tb_SSL_OP_IGNORE_UNEXPECTED_EOF | tb_SSL_OP_NO_COMPRESSION)
        // Partial writes report progress record by record; the write buffer may move between
        // retries because a retry is re-gathered from the connection's queue (same bytes, same
        // length, possibly a different address).
        _ = tb_SSL_CTX_set_mode(
            context,
            tb_SSL_MODE_RELEASE_BUFFERS | tb_SSL_MODE_ENABLE_PARTIAL_WRITE | tb_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
    }
}
