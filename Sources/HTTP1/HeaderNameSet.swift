/// A fixed set of header field names, matched ignoring ASCII case (RFC 9110 section 5.1).
///
/// Names are bucketed by length, so a field name is compared byte by byte only with the members of
/// its own length: checking a request's fields against the dozen names a proxy strips costs one
/// array index per field instead of a dozen comparisons.
public struct HeaderNameSet: Sendable {
    /// Lower-case member names, indexed by their UTF-8 length.
    private let byLength: [[[UInt8]]]

    public init(_ names: [String]) {
        let lowered = names.map { Array($0.utf8).map(Self.lowercased) }
        var buckets = [[[UInt8]]](repeating: [], count: (lowered.map(\.count).max() ?? 0) + 1)
        for name in lowered where !buckets[name.count].contains(name) {
            buckets[name.count].append(name)
        }
        byLength = buckets
    }

    public func contains(_ name: String) -> Bool {
        let count = name.utf8.count
        guard count < byLength.count, !byLength[count].isEmpty else { return false }
        var name = name
        return name.withUTF8 { bytes in byLength[count].contains { Self.matches(bytes, lowercased: $0) } }
    }

    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, lowercased member: [UInt8]) -> Bool {
        for index in 0..<bytes.count where lowercased(bytes[index]) != member[index] {
            return false
        }
        return true
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
