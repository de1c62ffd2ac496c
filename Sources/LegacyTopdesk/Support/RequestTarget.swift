/// An origin-form request target split into decoded path segments and query items.
///
/// Path segments are percent-decoded only: a `+` in a path is a plus sign, so
/// `/number/I%201602%20001` and `/number/I 1602 001` name the same incident but
/// `/number/I+1602+001` does not. Query values are form-decoded: `+` is a space and `%2B` a plus,
/// which is how `order_by=creation_date+DESC` and `order_by=creation_date%2BDESC` both work.
public struct RequestTarget: Sendable, Equatable {
    /// The raw path, before decoding (no query).
    public var rawPath: Substring
    /// Decoded segments; a trailing slash is dropped (`/tas/api/incidents/` = `/tas/api/incidents`).
    public var segments: [String]
    /// Decoded query items in order; a name may repeat.
    public var query: [(name: String, value: String)]

    public init(_ target: String) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        rawPath = parts.first ?? ""
        var segments = rawPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            .map { RequestTarget.percentDecode($0, plusIsSpace: false) }
        if segments.last == "" { segments.removeLast() }
        self.segments = segments
        query = []
        if parts.count == 2 {
            for item in parts[1].split(separator: "&") where !item.isEmpty {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = RequestTarget.percentDecode(pair[0], plusIsSpace: true)
                let value = pair.count > 1 ? RequestTarget.percentDecode(pair[1], plusIsSpace: true) : ""
                query.append((name, value))
            }
        }
    }

    public static func == (lhs: RequestTarget, rhs: RequestTarget) -> Bool {
        lhs.rawPath == rhs.rawPath && lhs.segments == rhs.segments
            && lhs.query.map(\.name) == rhs.query.map(\.name) && lhs.query.map(\.value) == rhs.query.map(\.value)
    }

    /// The first value of query item `name`.
    public func value(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// Every value of query item `name`.
    public func values(_ name: String) -> [String] {
        query.filter { $0.name == name }.map(\.value)
    }

    /// Decodes `%XX` escapes (invalid escapes stay as they are) and, in query strings, `+` as space.
    /// Decoded bytes that are not UTF-8 are replaced, since every name the API knows is text.
    public static func percentDecode(_ text: Substring, plusIsSpace: Bool) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(text)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"),
                let first = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex), first != utf8.endIndex,
                let second = utf8.index(first, offsetBy: 1, limitedBy: utf8.endIndex), second != utf8.endIndex,
                let high = hexValue(utf8[first]), let low = hexValue(utf8[second])
            {
                bytes.append(high << 4 | low)
                index = utf8.index(after: second)
                continue
            }
            bytes.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index = utf8.index(after: index)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
