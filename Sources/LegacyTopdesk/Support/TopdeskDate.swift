/// A point in time as an old install writes it: `2017-02-16T09:12:00.000+0000` (always UTC here).
///
/// Formatting and parsing are done by hand (civil-from-days arithmetic) so that no shared
/// `DateFormatter` is touched from several event-loop threads.
public struct TopdeskDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var millisecondsSince1970: Int64

    public init(millisecondsSince1970: Int64) {
        self.millisecondsSince1970 = millisecondsSince1970
    }

    public init(secondsSince1970: Double) {
        millisecondsSince1970 = Int64((secondsSince1970 * 1000).rounded(.down))
    }

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        let days = TopdeskDate.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        millisecondsSince1970 = seconds * 1000
    }

    public static func < (lhs: TopdeskDate, rhs: TopdeskDate) -> Bool {
        lhs.millisecondsSince1970 < rhs.millisecondsSince1970
    }

    public func adding(seconds: Int64) -> TopdeskDate {
        TopdeskDate(millisecondsSince1970: millisecondsSince1970 + seconds * 1000)
    }

    /// Year, month, day, hour, minute, second, millisecond in UTC.
    public var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) {
        let milliseconds = millisecondsSince1970
        var days = milliseconds / 86_400_000
        var rest = milliseconds % 86_400_000
        if rest < 0 {
            rest += 86_400_000
            days -= 1
        }
        let civil = TopdeskDate.civilFromDays(Int(days))
        let secondsOfDay = Int(rest / 1000)
        return (civil.year, civil.month, civil.day, secondsOfDay / 3600, secondsOfDay / 60 % 60, secondsOfDay % 60,
                Int(rest % 1000))
    }

    /// `2017-02-16T09:12:00.000+0000`
    public var description: String {
        let c = components
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):"
            + "\(pad(c.second, 2)).\(pad(c.millisecond, 3))+0000"
    }

    /// Parses `yyyy-MM-dd`, `yyyy-MM-ddTHH:mm:ss`, optionally with `.SSS` and a `+HHmm`/`Z` offset.
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var hour = 0, minute = 0, second = 0, millisecond = 0, offsetMinutes = 0
        var position = 10
        if bytes.count > 10 {
            guard bytes.count >= 19, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
                let h = number(11..<13), let m = number(14..<16), let s = number(17..<19), h < 24, m < 60, s < 61
            else { return nil }
            (hour, minute, second) = (h, m, s)
            position = 19
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                guard let fraction = number(position + 1..<position + 4) else { return nil }
                millisecond = fraction
                position += 4
            }
            if position < bytes.count {
                if bytes[position] == UInt8(ascii: "Z"), position + 1 == bytes.count {
                    position += 1
                } else if bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                    let sign = bytes[position] == UInt8(ascii: "-") ? -1 : 1
                    let compact = bytes.count - position == 5
                    guard let oh = number(position + 1..<position + 3),
                        let om = compact ? number(position + 3..<position + 5) : number(position + 4..<position + 6)
                    else { return nil }
                    offsetMinutes = sign * (oh * 60 + om)
                    position = bytes.count
                } else {
                    return nil
                }
            }
        }
        guard position == bytes.count else { return nil }
        let base = TopdeskDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        millisecondsSince1970 = base.millisecondsSince1970 + Int64(millisecond) - Int64(offsetMinutes) * 60_000
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = TopdeskDate(parsing: text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "not a date: \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    // Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

private func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
