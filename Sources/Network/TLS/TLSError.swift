import COpenSSL

/// A TLS failure: the OpenSSL call that failed, its `SSL_get_error` code when there is one, and
/// the OpenSSL error stack drained at the time (oldest first). Certificate verification failures
/// name the verification result. Never contains key material or secrets.
public struct TLSError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let sslErrorCode: Int32?
    public let openSSLErrors: [String]
    public let detail: String?

    public init(operation: String, sslErrorCode: Int32? = nil, openSSLErrors: [String], detail: String? = nil) {
        self.operation = operation
        self.sslErrorCode = sslErrorCode
        self.openSSLErrors = openSSLErrors
        self.detail = detail
    }

    /// Builds an error for `operation`, taking every entry off this thread's OpenSSL error queue.
    static func drained(_ operation: String, sslErrorCode: Int32? = nil, detail: String? = nil) -> TLSError {
        TLSError(operation: operation, sslErrorCode: sslErrorCode, openSSLErrors: drainErrorQueue(), detail: detail)
    }

    /// Empties this thread's OpenSSL error queue, returning the entries as text.
    static func drainErrorQueue() -> [String] {
        var entries: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            let text = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
                ERR_error_string_n(code, buffer.baseAddress, buffer.count)
                return String(cString: buffer.baseAddress!)
            }
            entries.append(text)
        }
        return entries
    }

    public var description: String {
        var text = "\(operation) failed"
        if let sslErrorCode { text += " (SSL error \(sslErrorCode))" }
        if let detail { text += ": \(detail)" }
        if !openSSLErrors.isEmpty { text += " [" + openSSLErrors.joined(separator: "; ") + "]" }
        return text
    }
}
