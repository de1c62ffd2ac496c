#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes bytes straight into room an array made for them: what a head or a log line is built
/// with. An append to `[UInt8]` is a call that checks uniqueness and capacity each time; a head
/// is some forty appends, so the writer checks once for the whole message, and each append is
/// a store or a `memcpy` behind one bounds check.
///
/// Get one from `Array.appendWriting(atMost:_:)`, which reserves the room, zeroed, and keeps what
/// was written. Writing past the room is a programming error and traps, never a silent overrun.
public struct ByteWriter: ~Copyable {
    @usableFromInline var next: UnsafeMutablePointer<UInt8>
    @usableFromInline let end: UnsafeMutablePointer<UInt8>

    @usableFromInline
    init(_ room: UnsafeMutableBufferPointer<UInt8>) {
        next = room.baseAddress!
        end = next + room.count
    }

    /// How many more bytes fit.
    @inlinable
    public var remaining: Int { next.distance(to: end) }

    @inlinable @inline(__always)
    public mutating func append(_ byte: UInt8) {
        precondition(next < end, "ByteWriter: more bytes than the room reserved")
        next.initialize(to: byte)
        next += 1
    }

    @inlinable @inline(__always)
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(bytes.count <= remaining, "ByteWriter: more bytes than the room reserved")
        memcpy(next, source, bytes.count)
        next += bytes.count
    }

    @inlinable @inline(__always)
    public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        append(UnsafeRawBufferPointer(bytes))
    }

    @inlinable @inline(__always)
    public mutating func append(_ literal: StaticString) {
        append(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// The UTF-8 bytes of `text`: one copy for a native string, byte by byte otherwise.
    @inlinable
    public mutating func append(utf8 text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { append($0) }
        if copied == nil { for byte in text.utf8 { append(byte) } }
    }

    /// The decimal digits of `value`; a minus sign first when negative.
    @inlinable
    public mutating func append(decimal value: Int) {
        append(decimal: value, width: 1)
    }

    /// Decimal digits of `value`, at least `width` of them (zeros in front); a minus sign first
    /// when negative.
    @inlinable
    public mutating func append(decimal value: Int, width: Int) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var remaining = value.magnitude
        var digits = 1
        var rest = remaining / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        let count = Swift.max(digits, width)
        precondition(count <= self.remaining, "ByteWriter: more bytes than the room reserved")
        // Written from the last digit back; the zeros of the padding come out of the same loop.
        var position = next + count
        while position > next {
            position -= 1
            position.initialize(to: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10))
            remaining /= 10
        }
        next += count
    }

    /// Lower-case hexadecimal digits of a non-negative `value`.
    @inlinable
    public mutating func append(hex value: Int) {
        precondition(value >= 0, "ByteWriter: negative hexadecimal value")
        var shift = value == 0 ? 0 : (Int.bitWidth - value.leadingZeroBitCount - 1) / 4 * 4
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: (value >> shift) & 0xF)
            append(nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ nibble &- 10)
            shift -= 4
        }
    }
}

extension Array where Element == UInt8 {
    /// Lets `body` write up to `maximum` bytes at the end of the array, then keeps exactly what it
    /// wrote. The bound must hold for any input: `body` traps rather than write past it.
    @inlinable
    public mutating func appendWriting<Result>(
        atMost maximum: Int, _ body: (inout ByteWriter) throws -> Result
    ) rethrows -> Result {
        let start = count
        let maximum = Swift.max(maximum, 1)  // so the room always has an address
        // An array cannot grow by uninitialized elements: the room is zeroed first, by one copy
        // from a page of zeros when it fits (the generic fill costs several times more).
        if maximum <= byteWriterZeros.count {
            byteWriterZeros.withUnsafeBufferPointer { zeros in
                append(contentsOf: UnsafeBufferPointer(rebasing: zeros[..<maximum]))
            }
        } else {
            append(contentsOf: repeatElement(0, count: maximum))
        }
        var written = 0
        let result = try withUnsafeMutableBufferPointer { whole in
            let room = UnsafeMutableBufferPointer(rebasing: whole[start...])
            var writer = ByteWriter(room)
            defer { written = room.baseAddress!.distance(to: writer.next) }
            return try body(&writer)
        }
        removeLast(maximum - written)
        return result
    }
}

@usableFromInline
let byteWriterZeros = [UInt8](repeating: 0, count: 4096)
