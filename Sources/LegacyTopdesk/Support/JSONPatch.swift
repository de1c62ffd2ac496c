/// Why a JSON Patch could not be applied.
public struct JSONPatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// JSON Patch (RFC 6902) over `JSONValue`: add, remove, replace, move, copy and test, with JSON
/// Pointers (RFC 6901). The whole patch applies or nothing does.
public enum JSONPatch {
    public static func apply(_ patch: JSONValue, to document: JSONValue) throws(JSONPatchError) -> JSONValue {
        guard let operations = patch.arrayValue else {
            throw JSONPatchError(message: "A JSON Patch is an array of operations")
        }
        var result = document
        for (index, operation) in operations.enumerated() {
            guard operation.objectMembers != nil, let name = operation["op"]?.stringValue else {
                throw JSONPatchError(message: "Operation \(index) has no \"op\"")
            }
            guard let pathText = operation["path"]?.stringValue else {
                throw JSONPatchError(message: "Operation \(index) has no \"path\"")
            }
            let path = try pointer(pathText)
            switch name {
            case "add":
                result = try add(try required(operation, "value", index), at: path, in: result)
            case "remove":
                result = try remove(at: path, in: result).document
            case "replace":
                _ = try value(at: path, in: result)
                result = try remove(at: path, in: result).document
                result = try add(try required(operation, "value", index), at: path, in: result)
            case "move":
                let from = try pointer(try fromPath(operation, index))
                if path.starts(with: from), path.count > from.count {
                    throw JSONPatchError(message: "Operation \(index) moves a value into itself")
                }
                let removed = try remove(at: from, in: result)
                result = try add(removed.value, at: path, in: removed.document)
            case "copy":
                let from = try pointer(try fromPath(operation, index))
                result = try add(try value(at: from, in: result), at: path, in: result)
            case "test":
                guard try value(at: path, in: result) == (try required(operation, "value", index)) else {
                    throw JSONPatchError(message: "Test failed at \(pathText)")
                }
            default:
                throw JSONPatchError(message: "Unknown operation \"\(name)\"")
            }
        }
        return result
    }

    private static func required(_ operation: JSONValue, _ key: String, _ index: Int) throws(JSONPatchError)
        -> JSONValue
    {
        guard let value = operation[key] else { throw JSONPatchError(message: "Operation \(index) has no \"\(key)\"") }
        return value
    }

    private static func fromPath(_ operation: JSONValue, _ index: Int) throws(JSONPatchError) -> String {
        guard let from = operation["from"]?.stringValue else {
            throw JSONPatchError(message: "Operation \(index) has no \"from\"")
        }
        return from
    }

    /// Splits a JSON Pointer into reference tokens, undoing `~1` and `~0` in that order.
    static func pointer(_ text: String) throws(JSONPatchError) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw JSONPatchError(message: "Invalid JSON Pointer \"\(text)\"") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func value(at path: [String], in document: JSONValue) throws(JSONPatchError) -> JSONValue {
        var current = document
        for token in path {
            switch current {
            case .object(let members):
                guard let member = members.first(where: { $0.key == token }) else {
                    throw JSONPatchError(message: "No value at /\(path.joined(separator: "/"))")
                }
                current = member.value
            case .array(let elements):
                guard let index = Int(token), elements.indices.contains(index) else {
                    throw JSONPatchError(message: "No value at /\(path.joined(separator: "/"))")
                }
                current = elements[index]
            default:
                throw JSONPatchError(message: "No value at /\(path.joined(separator: "/"))")
            }
        }
        return current
    }

    private static func add(_ value: JSONValue, at path: [String], in document: JSONValue) throws(JSONPatchError)
        -> JSONValue
    {
        guard let token = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch document {
        case .object(var members):
            if let index = members.firstIndex(where: { $0.key == token }) {
                members[index].value = rest.isEmpty ? value : try add(value, at: rest, in: members[index].value)
            } else {
                guard rest.isEmpty else { throw JSONPatchError(message: "No parent for \"\(token)\"") }
                members.append(JSONMember(token, value))
            }
            return .object(members)
        case .array(var elements):
            if rest.isEmpty {
                if token == "-" {
                    elements.append(value)
                } else {
                    guard let index = Int(token), index >= 0, index <= elements.count else {
                        throw JSONPatchError(message: "Array index \"\(token)\" out of range")
                    }
                    elements.insert(value, at: index)
                }
            } else {
                guard let index = Int(token), elements.indices.contains(index) else {
                    throw JSONPatchError(message: "Array index \"\(token)\" out of range")
                }
                elements[index] = try add(value, at: rest, in: elements[index])
            }
            return .array(elements)
        default:
            throw JSONPatchError(message: "Cannot add below a value that is not an object or array")
        }
    }

    private static func remove(at path: [String], in document: JSONValue) throws(JSONPatchError)
        -> (document: JSONValue, value: JSONValue)
    {
        guard let token = path.first else { throw JSONPatchError(message: "Cannot remove the whole document") }
        let rest = Array(path.dropFirst())
        switch document {
        case .object(var members):
            guard let index = members.firstIndex(where: { $0.key == token }) else {
                throw JSONPatchError(message: "No value named \"\(token)\" to remove")
            }
            if rest.isEmpty {
                let removed = members.remove(at: index)
                return (.object(members), removed.value)
            }
            let inner = try remove(at: rest, in: members[index].value)
            members[index].value = inner.document
            return (.object(members), inner.value)
        case .array(var elements):
            guard let index = Int(token), elements.indices.contains(index) else {
                throw JSONPatchError(message: "Array index \"\(token)\" out of range")
            }
            if rest.isEmpty {
                let removed = elements.remove(at: index)
                return (.array(elements), removed)
            }
            let inner = try remove(at: rest, in: elements[index])
            elements[index] = inner.document
            return (.array(elements), inner.value)
        default:
            throw JSONPatchError(message: "No value at \"\(token)\"")
        }
    }
}
