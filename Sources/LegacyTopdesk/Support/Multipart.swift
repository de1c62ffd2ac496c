import Foundation

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

    /// The parts of `body`. Line breaks may be CRLF, as RFC 7578 asks, or a bare LF, as some
    /// clients send (the `topdesk` Python library builds its uploads by hand with LF); the Java MIME
    /// parsers real installs run read both. A part with `Content-Transfer-Encoding: base64`
    /// (deprecated by RFC 7578, but that same library base64-encodes every file it uploads) is
    /// stored decoded, as those parsers hand it to the application (our choice where the install's
    /// parser is unknown); any other transfer encoding is kept as sent.
    public static func parts(of body: [UInt8], boundary: String) -> [MultipartPart] {
        let delimiter = Array("--\(boundary)".utf8)
        // Each delimiter with the length of the line break before it (0 at the start of the body).
        var delimiters: [(position: Int, breakLength: Int)] = []
        var searchFrom = 0
        while let found = firstIndex(of: delimiter, in: body, from: searchFrom) {
            // A delimiter starts the body or follows a line break.
            if found == 0 {
                delimiters.append((found, 0))
            } else if found >= 2, body[found - 2] == carriageReturn, body[found - 1] == lineFeed {
                delimiters.append((found, 2))
            } else if body[found - 1] == lineFeed {
                delimiters.append((found, 1))
            }
            searchFrom = found + delimiter.count
        }
        var parts: [MultipartPart] = []
        for (current, next) in zip(delimiters, delimiters.dropFirst()) {
            var start = current.position + delimiter.count
            // "--" right after a delimiter closes the body.
            if start + 1 < body.count, body[start] == UInt8(ascii: "-"), body[start + 1] == UInt8(ascii: "-") { break }
            while start < body.count, body[start] == 0x20 || body[start] == 0x09 { start += 1 }
            if start + 1 < body.count, body[start] == carriageReturn, body[start + 1] == lineFeed {
                start += 2
            } else if start < body.count, body[start] == lineFeed {
                start += 1
            } else {
                continue
            }
            let end = next.position - next.breakLength
            guard end >= start, let (headEnd, contentStart) = endOfHead(in: body, from: start, before: end) else {
                continue
            }
            let headBytes = Array(body[start..<headEnd])
            let content = Array(body[contentStart..<end])
            if let part = makePart(head: String(decoding: headBytes, as: UTF8.self), body: content) {
                parts.append(part)
            }
        }
        return parts
    }

    private static let carriageReturn: UInt8 = 0x0D
    private static let lineFeed: UInt8 = 0x0A

    /// Where a part's head ends and its content starts: at and after the first empty line (ended by
    /// CRLF or LF) before `end`.
    private static func endOfHead(in body: [UInt8], from start: Int, before end: Int) -> (Int, Int)? {
        var lineStart = start
        while lineStart < end {
            guard let newline = body[lineStart..<end].firstIndex(of: lineFeed) else { return nil }
            let lineEnd = newline > lineStart && body[newline - 1] == carriageReturn ? newline - 1 : newline
            if lineEnd == lineStart { return (lineStart, newline + 1) }
            lineStart = newline + 1
        }
        return nil
    }

    private static func makePart(head: String, body: [UInt8]) -> MultipartPart? {
        var name: String?
        var fileName: String?
        var contentType: String?
        var transferEncoding: Substring?
        // "\r\n" is one Character in Swift: split on it and on a bare "\n".
        for line in head.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" }) {
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
            } else if field.equalsIgnoringASCIICase("Content-Transfer-Encoding") {
                transferEncoding = value
            }
        }
        guard let name else { return nil }
        var content = body
        if let transferEncoding, transferEncoding.equalsIgnoringASCIICase("base64"),
            let decoded = Data(base64Encoded: Data(body), options: .ignoreUnknownCharacters)
        {
            content = Array(decoded)
        }
        return MultipartPart(name: name, fileName: fileName, contentType: contentType, body: content)
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
