/// Parsers for the units configuration values are written in.
public enum ConfigurationUnits {
    /// Parses a duration written as one or more number-unit pairs: `500ms`, `30s`, `5m`, `8h`,
    /// `1h30m`, `1.5s`. Units: `ms`, `s`, `m`, `h`, `d`. A bare number has no unit and is refused:
    /// "30" could mean seconds or milliseconds. Nil when malformed or out of range.
    public static func parseDuration(_ text: String) -> Duration? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var index = 0
        var total: Double = 0
        while index < bytes.count {
            let numberStart = index
            while index < bytes.count, isDigit(bytes[index]) || bytes[index] == UInt8(ascii: ".") { index += 1 }
            guard index > numberStart,
                  let number = Double(String(decoding: bytes[numberStart..<index], as: UTF8.self)) else { return nil }
            let unitStart = index
            while index < bytes.count, isLetter(bytes[index]) { index += 1 }
            let unit = String(decoding: bytes[unitStart..<index], as: UTF8.self)
            let secondsPerUnit: Double
            switch unit {
            case "ms": secondsPerUnit = 0.001
            case "s": secondsPerUnit = 1
            case "m": secondsPerUnit = 60
            case "h": secondsPerUnit = 3600
            case "d": secondsPerUnit = 86_400
            default: return nil
            }
            total += number * secondsPerUnit
        }
        guard total.isFinite, total <= 10 * 365 * 86_400 else { return nil }
        return .milliseconds(Int64((total * 1000).rounded()))
    }

    /// Parses a byte size: a whole number of bytes, or a number with a unit: `B`, `KiB`, `MiB`,
    /// `GiB` (powers of 1024) or `KB`, `MB`, `GB` (powers of 1000), optionally separated by a
    /// space: `16MiB`, `32 KiB`, `1.5MiB`. Nil when malformed, negative or over 1 TiB.
    public static func parseByteSize(_ text: String) -> Int? {
        let trimmed = text.trimmingOptionalSpaces()
        let digitsEnd = trimmed.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? trimmed.endIndex
        guard digitsEnd > trimmed.startIndex, let number = Double(trimmed[..<digitsEnd]) else { return nil }
        let unit = trimmed[digitsEnd...].trimmingOptionalSpaces()
        let multiplier: Double
        switch unit {
        case "", "B": multiplier = 1
        case "KiB": multiplier = 1024
        case "MiB": multiplier = 1024 * 1024
        case "GiB": multiplier = 1024 * 1024 * 1024
        case "KB", "kB": multiplier = 1000
        case "MB": multiplier = 1_000_000
        case "GB": multiplier = 1_000_000_000
        default: return nil
        }
        let bytes = number * multiplier
        guard bytes.isFinite, bytes >= 0, bytes <= 1024 * 1024 * 1024 * 1024, bytes == bytes.rounded() else {
            return nil
        }
        return Int(bytes)
    }

    /// Writes a duration the way the configuration accepts it, in its largest whole unit.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = Int64(duration.components.seconds) * 1000
            + Int64(duration.components.attoseconds / 1_000_000_000_000_000)
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where milliseconds != 0 && milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
}

extension StringProtocol {
    fileprivate func trimmingOptionalSpaces() -> SubSequence {
        let start = firstIndex { $0 != " " } ?? endIndex
        let end = lastIndex { $0 != " " }.map { index(after: $0) } ?? start
        return self[start..<Swift.max(start, end)]
    }
}
