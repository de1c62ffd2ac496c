import Foundation

/// A JSON5 document as a plain value tree, so the configuration can be checked key by key (unknown
/// keys, wrong types) with the path of every mistake, which `Decodable` cannot report.
enum ConfigurationValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([ConfigurationValue])
    case object([String: ConfigurationValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ConfigurationValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ConfigurationValue].self))
        }
    }

    /// Parses JSON5 text (comments, trailing commas, unquoted keys, single quotes).
    static func parseJSON5(_ data: Data) throws(ConfigurationIssue) -> ConfigurationValue {
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        do {
            return try decoder.decode(ConfigurationValue.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            // Foundation's JSON5 reader on Linux reports no position (no underlying error); say so
            // rather than print its generic sentence.
            let detail = context.underlyingError.map { "\($0)" }
                ?? "the parser gives no position; check commas, brackets and quotes"
            throw ConfigurationIssue(path: "", message: "not valid JSON5 (\(detail))")
        } catch {
            throw ConfigurationIssue(path: "", message: "not valid JSON5: \(error)")
        }
    }

    /// How the value is called in "expected X, found Y" messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .number: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}

/// One problem in a configuration, named by its key path (`upstreams[0].url`).
public struct ConfigurationIssue: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted key path with list indices; empty for the file as a whole.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Every error found in a configuration (and the warnings found alongside).
public struct ConfigurationErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [ConfigurationIssue]
    public var warnings: [ConfigurationIssue]

    public init(errors: [ConfigurationIssue], warnings: [ConfigurationIssue] = []) {
        self.errors = errors
        self.warnings = warnings
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Walks a `ConfigurationValue`, collecting issues with their paths. Each accessor reports a wrong
/// type or an out-of-range value and returns the default (or nil) so checking goes on and every
/// error is reported in one run.
final class ConfigurationReader {
    private(set) var errors: [ConfigurationIssue] = []
    private(set) var warnings: [ConfigurationIssue] = []

    func error(_ path: String, _ message: String) {
        errors.append(ConfigurationIssue(path: path, message: message))
    }

    func warning(_ path: String, _ message: String) {
        warnings.append(ConfigurationIssue(path: path, message: message))
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The members of an object, reporting unknown keys (with a suggestion when one is close to a
    /// known key). Nil when absent (or null) or not an object.
    func object(_ value: ConfigurationValue?, at path: String, keys known: [String]) -> [String: ConfigurationValue]? {
        guard let value, value != .null else { return nil }
        guard case .object(let members) = value else {
            error(path, "expected an object, found \(value.kindName)")
            return nil
        }
        for key in members.keys.sorted() where !known.contains(key) {
            let suggestion = known.first { Self.editDistance($0.lowercased(), key.lowercased()) <= 2 }
            error(Self.join(path, key), "unknown key" + (suggestion.map { " (did you mean \"\($0)\"?)" } ?? ""))
        }
        return members
    }

    func list(_ members: [String: ConfigurationValue]?, _ key: String, at path: String) -> [ConfigurationValue] {
        guard let value = members?[key], value != .null else { return [] }
        guard case .array(let elements) = value else {
            error(Self.join(path, key), "expected a list, found \(value.kindName)")
            return []
        }
        return elements
    }

    func string(_ members: [String: ConfigurationValue]?, _ key: String, at path: String) -> String? {
        guard let value = members?[key], value != .null else { return nil }
        guard case .string(let text) = value else {
            error(Self.join(path, key), "expected a string, found \(value.kindName)")
            return nil
        }
        return text
    }

    func requiredString(_ members: [String: ConfigurationValue]?, _ key: String, at path: String) -> String? {
        guard let text = string(members, key, at: path) else {
            if members?[key] == nil || members?[key] == .null { error(Self.join(path, key), "required") }
            return nil
        }
        guard !text.isEmpty else {
            error(Self.join(path, key), "must not be empty")
            return nil
        }
        return text
    }

    func integer(_ members: [String: ConfigurationValue]?, _ key: String, at path: String,
                 default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let value = members?[key], value != .null else { return defaultValue }
        guard case .integer(let number) = value else {
            error(Self.join(path, key), "expected a whole number, found \(value.kindName)")
            return defaultValue
        }
        guard range.contains(number) else {
            error(Self.join(path, key), "must be from \(range.lowerBound) to \(range.upperBound)")
            return defaultValue
        }
        return number
    }

    func duration(_ members: [String: ConfigurationValue]?, _ key: String, at path: String,
                  default defaultValue: Duration, range: ClosedRange<Duration>) -> Duration {
        guard let value = members?[key], value != .null else { return defaultValue }
        let keyPath = Self.join(path, key)
        guard case .string(let text) = value else {
            error(keyPath, "expected a duration with a unit such as \"30s\" or \"500ms\", found \(value.kindName)")
            return defaultValue
        }
        guard let duration = ConfigurationUnits.parseDuration(text) else {
            error(keyPath, "\"\(text)\" is not a duration; write a number and a unit: ms, s, m, h (\"30s\", \"8h\")")
            return defaultValue
        }
        guard range.contains(duration) else {
            let low = ConfigurationUnits.format(range.lowerBound), high = ConfigurationUnits.format(range.upperBound)
            error(keyPath, "must be from \(low) to \(high)")
            return defaultValue
        }
        return duration
    }

    func byteSize(_ members: [String: ConfigurationValue]?, _ key: String, at path: String,
                  default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let value = members?[key], value != .null else { return defaultValue }
        let keyPath = Self.join(path, key)
        let bytes: Int
        switch value {
        case .integer(let number):
            bytes = number
        case .string(let text):
            guard let parsed = ConfigurationUnits.parseByteSize(text) else {
                error(keyPath, "\"\(text)\" is not a size; write bytes or a number with KiB, MiB, GiB (\"16MiB\")")
                return defaultValue
            }
            bytes = parsed
        default:
            error(keyPath, "expected a size such as 16MiB or a number of bytes, found \(value.kindName)")
            return defaultValue
        }
        guard range.contains(bytes) else {
            error(keyPath, "must be from \(range.lowerBound) to \(range.upperBound) bytes")
            return defaultValue
        }
        return bytes
    }

    /// Levenshtein distance, for "did you mean" on short key names.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
