import COpenSSL

/// Client-side TLS settings for upstream connections: TLS 1.2 and 1.3, peer verification against a
/// CA file or the system trust store, ALPN `http/1.1`, and an optional client certificate.
/// Host name checks and SNI are per connection (`TLSSession` with a server name).
public final class TLSClientContext: @unchecked Sendable {
    let context: OpaquePointer

    /// - Parameters:
    ///   - caFile: PEM bundle of trusted CAs; nil uses the system store
    ///     (`SSL_CTX_set_default_verify_paths`).
    ///   - certificateFile: optional client certificate chain (PEM), sent when the server asks.
    ///   - privateKeyFile: the client certificate's key (PEM); required with `certificateFile`.
    public init(caFile: String? = nil, certificateFile: String? = nil, privateKeyFile: String? = nil) throws(TLSError) {
        _ = TLSError.drainErrorQueue()
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw .drained("SSL_CTX_new") }
        self.context = context
        try TLSContextSettings.applyCommon(to: context)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw .drained("SSL_CTX_load_verify_locations", detail: caFile)
            }
        } else {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw .drained("SSL_CTX_set_default_verify_paths")
            }
        }
        let alpn: [UInt8] = [8] + Array("http/1.1".utf8)
        // Unusually, SSL_CTX_set_alpn_protos returns 0 on success.
        guard SSL_CTX_set_alpn_protos(context, alpn, UInt32(alpn.count)) == 0 else {
            throw .drained("SSL_CTX_set_alpn_protos")
        }
        if let certificateFile {
            guard let privateKeyFile else {
                throw TLSError(operation: "TLSClientContext", openSSLErrors: [],
                               detail: "a client certificate needs its private key file")
            }
            guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
                throw .drained("SSL_CTX_use_certificate_chain_file", detail: certificateFile)
            }
            guard SSL_CTX_use_PrivateKey_file(context, privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
                throw .drained("SSL_CTX_use_PrivateKey_file", detail: privateKeyFile)
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw .drained("SSL_CTX_check_private_key", detail: "the key does not match the certificate")
            }
        }
    }

    deinit {
        SSL_CTX_free(context)
    }
}
