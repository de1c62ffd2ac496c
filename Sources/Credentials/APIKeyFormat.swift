/// The shape of an API key: `tbk_` + credential id + `_` + secret, e.g.
/// `tbk_k3v9qx0bz27m_Qx8...` (4 + 12 + 1 + 32 = 49 ASCII characters).
///
/// The prefix makes keys recognizable to secret scanners and to people; the id lets the store find
/// the one row to compare against, so no key is ever compared with every stored hash.
public enum APIKeyFormat {
    public static let prefix = "tbk_"
    static let length = 4 + SecretGenerator.credentialIDLength + 1 + SecretGenerator.apiKeySecretLength

    static func compose(id: String, secret: String) -> String {
        prefix + id + "_" + secret
    }

    /// True when `key` has exactly the shape of a key TokenBridge issues. Allocates nothing.
    static func isWellFormed(_ key: String) -> Bool {
        guard key.utf8.count == length else {
            return false
        }
        var key = key
        return key.withUTF8 { bytes in
            let idStart = 4
            let separator = idStart + SecretGenerator.credentialIDLength
            // `prefix`, "tbk_", byte by byte.
            guard bytes[0] == UInt8(ascii: "t"), bytes[1] == UInt8(ascii: "b"), bytes[2] == UInt8(ascii: "k"),
                  bytes[3] == UInt8(ascii: "_"), bytes[separator] == UInt8(ascii: "_") else {
                return false
            }
            var offset = idStart
            while offset < separator {
                guard isLowercaseAlphanumeric(bytes[offset]) else { return false }
                offset += 1
            }
            offset = separator + 1
            while offset < bytes.count {
                let byte = bytes[offset]
                guard isLowercaseAlphanumeric(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) else {
                    return false
                }
                offset += 1
            }
            return true
        }
    }

    /// The id and secret of a well-formed key; nil otherwise.
    static func split(_ key: String) -> (id: Substring, secret: Substring)? {
        guard isWellFormed(key) else {
            return nil
        }
        let idStart = key.utf8.index(key.utf8.startIndex, offsetBy: prefix.utf8.count)
        let idEnd = key.utf8.index(idStart, offsetBy: SecretGenerator.credentialIDLength)
        let secretStart = key.utf8.index(after: idEnd)
        return (Substring(key[idStart..<idEnd]), Substring(key[secretStart...]))
    }

    @inline(__always)
    private static func isLowercaseAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}

/// The shape of an application password: five groups of five lowercase letters or digits joined
/// by `-`. A presented password of any other shape is refused without touching the store.
enum AppPasswordFormat {
    static let length = SecretGenerator.appPasswordGroupCount * (SecretGenerator.appPasswordGroupLength + 1) - 1

    static func isWellFormed(_ password: String) -> Bool {
        guard password.utf8.count == length else {
            return false
        }
        var password = password
        return password.withUTF8 { bytes in isWellFormed(bytes: bytes) }
    }

    private static func isWellFormed(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for offset in 0..<bytes.count {
            let byte = bytes[offset]
            let isSeparatorPosition = (offset + 1) % (SecretGenerator.appPasswordGroupLength + 1) == 0
            let isAlphanumeric = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            if isSeparatorPosition ? byte != UInt8(ascii: "-") : !isAlphanumeric {
                return false
            }
        }
        return true
    }
}
