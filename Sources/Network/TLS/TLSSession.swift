import COpenSSL
import CSystem
import Glibc

/// One TLS session on a non-blocking socket, driven by the connection that owns it.
///
/// The session reads and writes the socket itself (`SSL_set_fd`) rather than through memory BIOs:
/// records go straight between the kernel and OpenSSL's buffers with no extra copy and no BIO
/// buffers to manage, and `SSL_MODE_RELEASE_BUFFERS` can free those buffers while idle. The cost is
/// that plaintext cannot be handed to `writev`; the connection gathers small writes into one record
/// instead. `WANT_READ` / `WANT_WRITE` mean the socket returned EAGAIN, which is exactly the
/// edge the connection's edge-triggered epoll registration waits for.
///
/// Reads use read-ahead: OpenSSL asks the socket for a whole buffer, so one `read(2)` brings a
/// record's header and body (and any records behind it) instead of one call for the 5-byte
/// header and another for the body. A raw read that came back short means the socket was empty
/// at that moment; `lastSocketReadWasShort` tells the connection so it can skip the `read(2)`
/// that would only return EAGAIN.
final class TLSSession {
    enum IOResult {
        case bytes(Int)
        /// Needs the socket to become readable, then the same call again.
        case wantRead
        /// Needs the socket to become writable, then the same call again.
        case wantWrite
        /// The peer closed the TLS session (close_notify or EOF).
        case closed
        case failed(ConnectionError)
    }

    enum HandshakeResult {
        case complete
        case wantRead
        case wantWrite
        case failed(TLSError)
    }

    private let ssl: OpaquePointer
    let isClient: Bool
    /// Set by OpenSSL's read callback (`tb_SSL_watch_socket_reads`): 1 after a short raw read.
    private let shortReadFlag: UnsafeMutablePointer<Int32>

    init(serverContext: TLSServerContext, fd: Int32) throws(TLSError) {
        guard let ssl = SSL_new(serverContext.context) else { throw .drained("SSL_new") }
        self.ssl = ssl
        shortReadFlag = .allocate(capacity: 1)
        shortReadFlag.pointee = 0
        isClient = false
        try attach(to: fd)
        SSL_set_accept_state(ssl)
    }

    /// A client session; `serverName` is sent as SNI (names only, RFC 6066 section 3) and checked
    /// against the certificate (a DNS name, or an IP address literal against its IP SANs).
    init(clientContext: TLSClientContext, fd: Int32, serverName: String?) throws(TLSError) {
        guard let ssl = SSL_new(clientContext.context) else { throw .drained("SSL_new") }
        self.ssl = ssl
        shortReadFlag = .allocate(capacity: 1)
        shortReadFlag.pointee = 0
        isClient = true
        try attach(to: fd)
        if let serverName {
            if (try? SocketAddress(host: serverName, port: 0)) != nil {
                guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1 else {
                    throw .drained("X509_VERIFY_PARAM_set1_ip_asc", detail: serverName)
                }
            } else {
                guard SSL_set1_host(ssl, serverName) == 1 else { throw .drained("SSL_set1_host", detail: serverName) }
                guard tb_SSL_set_tlsext_host_name(ssl, serverName) == 1 else {
                    throw .drained("SSL_set_tlsext_host_name", detail: serverName)
                }
            }
        }
        SSL_set_connect_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        shortReadFlag.deallocate()
    }

    private func attach(to fd: Int32) throws(TLSError) {
        guard SSL_set_fd(ssl, fd) == 1 else { throw .drained("SSL_set_fd") }
        SSL_set_read_ahead(ssl, 1)
        guard tb_SSL_watch_socket_reads(ssl, shortReadFlag) == 1 else { throw .drained("BIO_set_callback_ex") }
    }

    func handshake() -> HandshakeResult {
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .complete }
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        default:
            var detail: String?
            let verifyResult = SSL_get_verify_result(ssl)
            if isClient, verifyResult != X509_V_OK {
                let reason = String(cString: X509_verify_cert_error_string(verifyResult))
                detail = "certificate verification failed: " + reason
            } else if code == SSL_ERROR_SYSCALL {
                let errno = tb_errno()
                detail = errno == 0
                    ? "connection closed during the handshake"
                    : IOError(call: "TLS handshake", errno: errno).description
            }
            return .failed(.drained("SSL_do_handshake", sslErrorCode: code, detail: detail))
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        let result = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if result > 0 { return .bytes(Int(result)) }
        return classify(result, operation: "SSL_read")
    }

    /// Writes from `bytes`. After `wantRead`/`wantWrite`, the next call must pass the same bytes
    /// with the same length (the address may differ).
    func write(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        let result = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        if result > 0 { return .bytes(Int(result)) }
        return classify(result, operation: "SSL_write")
    }

    /// Sends close_notify if the socket takes it now; never waits for the peer's.
    func sendCloseNotify() {
        _ = SSL_shutdown(ssl)
        _ = TLSError.drainErrorQueue()
    }

    /// Whether OpenSSL holds input the socket will not signal again: decrypted bytes, or (read
    /// ahead) records or part of one not yet processed.
    var hasBufferedInput: Bool { SSL_has_pending(ssl) == 1 }

    /// Whether a raw socket read since `forgetSocketReads()` came back short, so the socket was
    /// empty then. Only a read made after the last wait for events counts: data that arrived later
    /// raised an edge of its own, which the next wait reports.
    var lastSocketReadWasShort: Bool { shortReadFlag.pointee == 1 }

    func forgetSocketReads() {
        shortReadFlag.pointee = 0
    }

    var negotiatedALPN: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// "TLSv1.2", "TLSv1.3".
    var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    var cipherName: String? {
        guard let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher) else { return nil }
        return String(cString: name)
    }

    var sessionWasReused: Bool { SSL_session_reused(ssl) == 1 }

    private func classify(_ result: Int32, operation: String) -> IOResult {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let errno = tb_errno()
            _ = TLSError.drainErrorQueue()
            if errno == 0 { return .closed }
            return .failed(.io(IOError(call: operation, errno: errno)))
        default:
            return .failed(.tls(.drained(operation, sslErrorCode: code)))
        }
    }
}
