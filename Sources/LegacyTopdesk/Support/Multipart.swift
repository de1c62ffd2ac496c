/// One part of a `multipart/form-data` body (RFC 7578).
public struct MultipartPart: Sendable, Equatable {
    /// The `name` parameter of `Content-Disposition: form-data`.
    public var name: String
    /// The `filename` parameter, when the part is a file.
    public var fileName: String?
    public var contentType: String?
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Splits a `multipart/form-data` body into parts. As on a real install, a body whose boundary
/// does not match the `Content-Type` header yields no parts rather than an error: the upload
/// "arrives empty", and the route then answers that no file was sent.
public enum MultipartParser {
    /// The `boundary` parameter of a `multipart/form-data` content type, unquoted.
    public static func boundary(fromContentType contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingOptionalWhitespace() }
        guard let type = pieces.first, type.equalsIgnoringASCIICase("multipart/form-data") else { return nil }
        for parameter in pieces.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingOptionalWhitespace().equalsIgnoringASCIICase("boundary") else {
                continue
            }
            var value = pair[1].trimmingOptionalWhitespace()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = value.dropFirst().dropLast()
            }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    public static func parts(of body: [UInt8], boundary: String) -> [MultipartPart] {
        let delimiter = Array("--\(boundary)".utf8)
        var positions: [Int] = []
        var searchFrom = 0
        while let found = firstIndex(of: delimiter, in: body, from: searchFrom) {
            // A delimiter starts the body or follows CRLF.
            if found == 0 || (found >= 2 && body[found - 2] == 0x0D && body[found - 1] == 0x0A) {
                positions.append(found)
            }
            searchFrom = found + delimiter.count
        }
        var parts: [MultipartPart] = []
        for (position, next) in zip(positions, positions.dropFirst()) {
            var start = position + delimiter.count
            // "--" right after a delimiter closes the body.
            if start + 1 < body.count, body[start] == UInt8(ascii: "-"), body[start + 1] == UInt8(ascii: "-") { break }
            while start < body.count, body[start] == 0x20 || body[start] == 0x09 { start += 1 }
            guard start + 1 < body.count, body[start] == 0x0D, body[start + 1] == 0x0A else { continue }
            start += 2
            let end = next - 2
            // The head ends at the first blank line; searching from the CRLF before `start` also
            // finds the blank line of a part that has no header fields at all.
            guard end >= start, let headEnd = firstIndex(of: [0x0D, 0x0A, 0x0D, 0x0A], in: body, from: start - 2),
                headEnd + 4 <= end
            else { continue }
            let headBytes = headEnd >= start ? Array(body[start..<headEnd]) : []
            let content = Array(body[(headEnd + 4)..<end])
            if let part = makePart(head: String(decoding: headBytes, as: UTF8.self), body: content) {
                parts.append(part)
            }
        }
        return parts
    }

    private static func makePart(head: String, body: [UInt8]) -> MultipartPart? {
        var name: String?
        var fileName: String?
        var contentType: String?
        for line in head.split(separator: "\r\n", omittingEmptySubsequences: true) {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let field = pair[0].trimmingOptionalWhitespace()
            let value = pair[1].trimmingOptionalWhitespace()
            if field.equalsIgnoringASCIICase("Content-Disposition") {
                for parameter in value.split(separator: ";").dropFirst() {
                    let keyValue = parameter.split(separator: "=", maxSplits: 1)
                    guard keyValue.count == 2 else { continue }
                    let key = keyValue[0].trimmingOptionalWhitespace().lowercased()
                    var text = keyValue[1].trimmingOptionalWhitespace()
                    if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 {
                        text = text.dropFirst().dropLast()
                    }
                    if key == "name" { name = String(text) }
                    if key == "filename" { fileName = String(text) }
                }
            } else if field.equalsIgnoringASCIICase("Content-Type") {
                contentType = String(value)
            }
        }
        guard let name else { return nil }
        return MultipartPart(name: name, fileName: fileName, contentType: contentType, body: body)
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else {
            return nil
        }
        var index = max(start, 0)
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == needle[0] {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}
