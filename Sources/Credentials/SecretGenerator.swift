import COpenSSL

/// Random identifiers and secrets from OpenSSL's CSPRNG (`RAND_bytes`).
///
/// Characters are drawn by rejection sampling, so every character of an alphabet is equally likely
/// (no modulo bias).
enum SecretGenerator {
    /// Lowercase letters and digits: ids and application passwords (easy to read and to type).
    static let lowercaseAlphanumerics = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
    /// Both cases and digits: API key secrets (log2(62) = 5.95 bits per character).
    static let alphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// Characters in a credential id: 12 of 36 symbols, about 62 bits, so collisions are
    /// vanishingly rare (and a collision is caught by the primary key and retried).
    static let credentialIDLength = 12
    /// Characters in an API key secret: 32 of 62 symbols, about 190 bits.
    static let apiKeySecretLength = 32
    /// Application password layout: 5 groups of 5 of 36 symbols, 25 * log2(36) = 129 bits.
    static let appPasswordGroupCount = 5
    static let appPasswordGroupLength = 5

    static func credentialID() throws(CredentialStoreError) -> String {
        try randomString(length: credentialIDLength, alphabet: lowercaseAlphanumerics)
    }

    static func apiKeySecret() throws(CredentialStoreError) -> String {
        try randomString(length: apiKeySecretLength, alphabet: alphanumerics)
    }

    /// An application password such as `k3v9q-x0bz2-7mw4d-pq81s-hc5ye`.
    static func appPassword() throws(CredentialStoreError) -> String {
        var groups: [String] = []
        for _ in 0..<appPasswordGroupCount {
            groups.append(try randomString(length: appPasswordGroupLength, alphabet: lowercaseAlphanumerics))
        }
        return groups.joined(separator: "-")
    }

    static func randomString(length: Int, alphabet: [UInt8]) throws(CredentialStoreError) -> String {
        precondition(alphabet.count > 1 && alphabet.count <= 256)
        // Bytes at or above `limit` would favour the first characters; they are drawn again.
        let limit = 256 - (256 % alphabet.count)
        var characters: [UInt8] = []
        characters.reserveCapacity(length)
        while characters.count < length {
            for byte in try randomBytes(count: length * 2) where Int(byte) < limit {
                characters.append(alphabet[Int(byte) % alphabet.count])
                if characters.count == length {
                    break
                }
            }
        }
        return String(decoding: characters, as: UTF8.self)
    }

    static func randomBytes(count: Int) throws(CredentialStoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let result = bytes.withUnsafeMutableBufferPointer { buffer in
            RAND_bytes(buffer.baseAddress, Int32(buffer.count))
        }
        guard result == 1 else {
            throw CredentialStoreError(code: .cryptography, operation: "RAND_bytes", detail: OpenSSLErrorStack.drain())
        }
        return bytes
    }
}
