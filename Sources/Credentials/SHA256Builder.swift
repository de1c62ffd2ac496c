import COpenSSL

/// SHA-256 fetched once: in OpenSSL 3 an explicit fetch avoids a provider lookup per digest.
nonisolated(unsafe) private let sha256Algorithm: OpaquePointer = {
    guard let algorithm = EVP_MD_fetch(nil, "SHA256", nil) else {
        fatalError("OpenSSL has no SHA-256 implementation: \(OpenSSLErrorStack.drain())")
    }
    return algorithm
}()

/// Incremental SHA-256 over OpenSSL's EVP interface.
///
/// A digest failure can only mean the process is out of memory or OpenSSL is broken, so it stops
/// the process rather than letting a credential check continue on an undefined digest.
struct SHA256Builder: ~Copyable {
    private let context: OpaquePointer

    init() {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("EVP_MD_CTX_new failed: \(OpenSSLErrorStack.drain())")
        }
        guard EVP_DigestInit_ex2(context, sha256Algorithm, nil) == 1 else {
            fatalError("EVP_DigestInit_ex2 failed: \(OpenSSLErrorStack.drain())")
        }
        self.context = context
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard buffer.count > 0 else {
            return
        }
        guard EVP_DigestUpdate(context, buffer.baseAddress, buffer.count) == 1 else {
            fatalError("EVP_DigestUpdate failed: \(OpenSSLErrorStack.drain())")
        }
    }

    mutating func update(byte: UInt8) {
        withUnsafeBytes(of: byte) { update($0) }
    }

    mutating func update(bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Hashes the UTF-8 bytes of `text` without copying them (native strings are contiguous).
    mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    mutating func update(_ text: Substring) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Hashes a length (8 bytes, big-endian) so that adjacent variable-length fields cannot blur.
    mutating func update(length: Int) {
        withUnsafeBytes(of: UInt64(length).bigEndian) { update($0) }
    }

    consuming func finalize() -> SecretDigest {
        let context = self.context
        return SecretDigest { destination in
            var size: UInt32 = 0
            let pointer = destination.baseAddress?.assumingMemoryBound(to: UInt8.self)
            guard EVP_DigestFinal_ex(context, pointer, &size) == 1, size == UInt32(SecretDigest.byteCount) else {
                fatalError("EVP_DigestFinal_ex failed: \(OpenSSLErrorStack.drain())")
            }
        }
    }
}

/// The thread's queued OpenSSL errors as text, emptied as they are read.
enum OpenSSLErrorStack {
    static func drain() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 {
                break
            }
            var buffer = [UInt8](repeating: 0, count: 256)
            buffer.withUnsafeMutableBufferPointer { pointer in
                pointer.withMemoryRebound(to: CChar.self) { ERR_error_string_n(code, $0.baseAddress, $0.count) }
            }
            messages.append(String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self))
        }
        return messages.isEmpty ? "no OpenSSL error queued" : messages.joined(separator: "; ")
    }
}
