import HTTP1

/// The client credential a request carries (DESIGN.md, request path step 3): HTTP Basic with a
/// login and application password, `Authorization: Bearer <key>`, or `X-API-Key: <key>`.
/// Exactly one such field may be present: with two (two `Authorization` fields, or `Authorization`
/// and `X-API-Key`) which one counts would depend on a rule the client may not know, and a proxy
/// on the way may have added one, so the request is refused instead. Scheme words are
/// case-insensitive (RFC 9110 section 11.1; `BASIC` is seen in the wild).
enum PresentedCredential: Equatable {
    case none
    case apiKey(String)
    case basic(login: String, password: String)
    /// An `Authorization` header the gateway cannot read (unknown scheme, bad Base64, no colon).
    case unreadable
    /// More than one credential field.
    case ambiguous

    init(headers: HTTPHeaders) {
        var authorization: String?
        var apiKey: String?
        var fieldCount = 0
        headers.fields.withUnsafeBufferPointer { fields in
            for index in fields.indices {
                if fields[index].isNamed("Authorization") {
                    authorization = fields[index].value
                    fieldCount += 1
                } else if fields[index].isNamed("X-API-Key") {
                    apiKey = fields[index].value
                    fieldCount += 1
                }
            }
        }
        guard fieldCount <= 1 else {
            self = .ambiguous
            return
        }
        if let authorization {
            self = Self.parseAuthorization(authorization)
            return
        }
        if let key = apiKey {
            let utf8 = key.utf8
            if let first = utf8.first, let last = utf8.last, !Self.isWhitespace(first), !Self.isWhitespace(last) {
                self = .apiKey(key)
                return
            }
            let trimmed = key.trimmingOptionalWhitespace()
            self = trimmed.isEmpty ? .unreadable : .apiKey(String(trimmed))
            return
        }
        self = .none
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    static func parseAuthorization(_ value: String) -> PresentedCredential {
        let bytes = Array(value.utf8)
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")) else { return .unreadable }
        let scheme = bytes[..<space]
        var start = space
        while start < bytes.endIndex, bytes[start] == UInt8(ascii: " ") { start += 1 }
        var end = bytes.endIndex
        while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        let parameter = bytes[start..<end]
        guard !parameter.isEmpty else { return .unreadable }
        if Self.equalsIgnoringCase(scheme, "basic") {
            guard let decoded = Base64.decode(parameter),
                  let colon = decoded.firstIndex(of: UInt8(ascii: ":")),
                  let login = String(validating: decoded[..<colon], as: UTF8.self),
                  let password = String(validating: decoded[(colon + 1)...], as: UTF8.self) else { return .unreadable }
            return .basic(login: login, password: password)
        }
        if Self.equalsIgnoringCase(scheme, "bearer") {
            return .apiKey(String(decoding: parameter, as: UTF8.self))
        }
        return .unreadable
    }

    private static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        var index = 0
        for byte in bytes {
            let expected = lowercase.utf8Start[index]
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            if folded != expected { return false }
            index += 1
        }
        return true
    }
}

/// Standard Base64 (RFC 4648 section 4) decoding, padding optional; nil for anything else.
enum Base64 {
    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text {
            if byte == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0, let value = sextet(byte) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        guard padding <= 2, bits < 6 else { return nil }
        return output
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
