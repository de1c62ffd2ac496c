/// One header field as it appeared on the wire: name case and order are kept.
///
/// A value whose bytes are not UTF-8 (obs-text, RFC 9110 section 5.5: old servers send Latin-1
/// file names in `Content-Disposition`, for one) is held as Latin-1, one scalar per byte, and
/// written back as those same bytes, so a proxy passes it through unchanged. Assigning `value`
/// makes it UTF-8 again.
public struct HTTPField: Sendable, Equatable {
    public var name: String
    public var value: String {
        get { storedValue }
        set {
            storedValue = newValue
            valueIsLatin1 = false
        }
    }

    private var storedValue: String
    /// Whether `value` stands for raw bytes 0x00-0xFF rather than UTF-8 text.
    public private(set) var valueIsLatin1 = false

    public init(name: String, value: String) {
        self.name = name
        self.storedValue = value
    }

    /// A field whose value is the given bytes exactly: UTF-8 text when they are, Latin-1 otherwise.
    public init(name: String, valueBytes: UnsafeRawBufferPointer) {
        self.name = name
        if valueBytes.isASCII {
            // Nearly every value; decoding ASCII skips the generic validator, which cost about
            // a thousand instructions a field.
            self.storedValue = String(decoding: valueBytes, as: UTF8.self)
        } else if let text = String(validating: valueBytes, as: UTF8.self) {
            self.storedValue = text
        } else {
            var scalars = String.UnicodeScalarView()
            for byte in valueBytes { scalars.append(Unicode.Scalar(byte)) }
            self.storedValue = String(scalars)
            self.valueIsLatin1 = true
        }
    }

    /// Whether the field has this name, ASCII case ignored. The lengths are compared first, inline:
    /// most fields a lookup passes differ in length.
    @inlinable @inline(__always)
    public func isNamed(_ other: String) -> Bool {
        name.utf8.count == other.utf8.count && name.equalsIgnoringASCIICase(other)
    }

    /// Appends the value's wire bytes.
    @inlinable
    public func appendValueBytes(to buffer: inout [UInt8]) {
        buffer.appendWriting(atMost: value.utf8.count) { appendValueBytes(to: &$0) }
    }

    /// Writes the value's wire bytes; they never outnumber `value.utf8.count`.
    @inlinable
    public func appendValueBytes(to writer: inout ByteWriter) {
        if valueIsLatin1 {
            for scalar in value.unicodeScalars { writer.append(UInt8(truncatingIfNeeded: scalar.value)) }
        } else {
            writer.append(utf8: value)
        }
    }
}

/// An ordered list of header fields. Lookups ignore ASCII case (RFC 9110 section 5.1); the stored
/// names keep the case they arrived with, so a serializer writes back exactly what it was given.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [HTTPField]

    public init() {
        fields = []
    }

    /// Takes parsed fields as they are.
    init(fields: [HTTPField]) {
        self.fields = fields
    }

    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { HTTPField(name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[HTTPField]> {
        fields.makeIterator()
    }

    /// Makes room for this many fields in all, so adding several grows the list once.
    public mutating func reserveCapacity(_ count: Int) {
        fields.reserveCapacity(count)
    }

    /// Appends a field, keeping any others of the same name.
    public mutating func add(name: String, value: String) {
        fields.append(HTTPField(name: name, value: value))
    }

    /// Appends a field as it is (a Latin-1 value stays Latin-1).
    public mutating func add(_ field: HTTPField) {
        fields.append(field)
    }

    /// Removes every field of this name; returns whether any was there.
    @discardableResult
    public mutating func remove(name: String) -> Bool {
        let before = fields.count
        fields.removeAll { $0.isNamed(name) }
        return fields.count != before
    }

    /// Replaces every field of this name with one field, placed where the first one stood
    /// (or at the end when there was none).
    public mutating func replaceOrAdd(name: String, value: String) {
        if let index = fields.firstIndex(where: { $0.isNamed(name) }) {
            fields[index] = HTTPField(name: name, value: value)
            var next = index + 1
            while next < fields.count {
                if fields[next].isNamed(name) {
                    fields.remove(at: next)
                } else {
                    next += 1
                }
            }
        } else {
            add(name: name, value: value)
        }
    }

    /// Every value of this name, in order.
    public subscript(name: String) -> [String] {
        fields.compactMap { $0.isNamed(name) ? $0.value : nil }
    }

    public func first(name: String) -> String? {
        fields.first { $0.isNamed(name) }?.value
    }

    public func contains(name: String) -> Bool {
        fields.contains { $0.isNamed(name) }
    }

    /// The framing and connection fields, found in one pass that builds no list: what a
    /// serializer or a client checks on every head it writes.
    public var framingFields: FramingFieldSummary {
        var summary = FramingFieldSummary()
        // The name's length picks the one name it can be, so most fields cost one comparison of
        // lengths.
        // Over the storage, borrowing each field: a `for field in fields` loop copies every field,
        // two reference-count round trips each.
        fields.withUnsafeBufferPointer { fields in
            for index in fields.indices {
                switch fields[index].name.utf8.count {
                case 14 where fields[index].name.equalsIgnoringASCIICase("Content-Length"):
                    summary.contentLengthCount += 1
                    if summary.contentLength == nil { summary.contentLength = fields[index].value }
                case 17 where fields[index].name.equalsIgnoringASCIICase("Transfer-Encoding"):
                    summary.hasTransferEncoding = true
                case 10 where fields[index].name.equalsIgnoringASCIICase("Connection"):
                    summary.hasConnection = true
                default:
                    break
                }
            }
        }
        return summary
    }

    /// The comma-separated list elements of every field of this name (RFC 9110 section 5.6.1),
    /// trimmed, empty elements dropped. For `Connection`, `Transfer-Encoding` and the like.
    public func listElements(name: String) -> [Substring] {
        var result: [Substring] = []
        // Straight over the fields: most heads have no field of the name, and then nothing is
        // allocated.
        for field in fields where field.isNamed(name) {
            for element in field.value.split(separator: ",") {
                let trimmed = element.trimmingOptionalWhitespace()
                if !trimmed.isEmpty { result.append(trimmed) }
            }
        }
        return result
    }
}

/// See `HTTPHeaders.framingFields`.
public struct FramingFieldSummary: Sendable, Equatable {
    public var contentLengthCount = 0
    /// The first `Content-Length` value, as written.
    public var contentLength: String?
    public var hasTransferEncoding = false
    public var hasConnection = false

    public init() {}

    /// The first `Content-Length` as a number (see `lengthValue(of:)`).
    public var contentLengthValue: Int? {
        contentLength.flatMap(Self.lengthValue(of:))
    }

    /// A `Content-Length` value as a number: decimal digits with optional whitespace around them;
    /// nil for anything else (a list such as "5, 5" included), or a number too large for an `Int`.
    public static func lengthValue(of text: String) -> Int? {
        var text = text
        return text.withUTF8 { bytes -> Int? in
            var start = 0, end = bytes.count
            while start < end, ByteClass.isWhitespace(bytes[start]) { start += 1 }
            while end > start, ByteClass.isWhitespace(bytes[end - 1]) { end -= 1 }
            guard start < end else { return nil }
            var value = 0
            for index in start..<end {
                let digit = bytes[index] &- ASCII.zero
                guard digit <= 9 else { return nil }
                let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = times10.addingReportingOverflow(Int(digit))
                guard !overflowA, !overflowB else { return nil }
                value = sum
            }
            return value
        }
    }
}

extension StringProtocol {
    /// Compares two strings byte by byte, folding only ASCII letters, as header names require.
    @inlinable
    public func equalsIgnoringASCIICase<Other: StringProtocol>(_ other: Other) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        // Native strings (every parsed header name) compare over their contiguous bytes.
        let contiguous = a.withContiguousStorageIfAvailable { x in
            b.withContiguousStorageIfAvailable { y in asciiCaseInsensitiveBytesEqual(x, y) }
        }
        if let contiguous, let result = contiguous { return result }
        for (x, y) in zip(a, b) where x != y {
            guard x | 0x20 == y | 0x20, (x | 0x20) >= 0x61, (x | 0x20) <= 0x7A else { return false }
        }
        return true
    }

    /// Drops spaces and horizontal tabs at both ends (RFC 9110 section 5.6.3, OWS).
    /// Works over the UTF-8 view: both are ASCII bytes, so every index it stops at is a character
    /// boundary, and no Character is built.
    public func trimmingOptionalWhitespace() -> SubSequence {
        let bytes = utf8
        var start = bytes.startIndex
        while start < bytes.endIndex, bytes[start] == 0x20 || bytes[start] == 0x09 { start = bytes.index(after: start) }
        // The view only walks forward: the end is just past the last byte that is not OWS.
        var end = start, index = start
        while index < bytes.endIndex {
            let byte = bytes[index]
            index = bytes.index(after: index)
            if byte != 0x20 && byte != 0x09 { end = index }
        }
        return self[start..<end]
    }
}

/// Whether two byte runs of equal length are equal when only ASCII letters are folded.
@usableFromInline
func asciiCaseInsensitiveBytesEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var index = 0
    while index < a.count {
        let x = a[index], y = b[index]
        if x != y {
            let folded = x | 0x20
            guard folded == y | 0x20, folded >= 0x61, folded <= 0x7A else { return false }
        }
        index += 1
    }
    return true
}

extension ByteWriter {
    /// `name: value` and CRLF; at most `name.utf8.count + value.utf8.count + 4` bytes.
    public mutating func append(field: HTTPField) {
        append(utf8: field.name)
        append(": ")
        field.appendValueBytes(to: &self)
        append("\r\n")
    }
}
