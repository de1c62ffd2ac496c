/// Writes heads and chunked framing exactly as given: field names keep their case, fields keep
/// their order, nothing is added or dropped. It does not validate: a caller that puts CR or LF in
/// a name or value (from user input, say) writes a broken message. The parsers never produce such
/// values.
public enum HTTPSerializer {
    private static let crlf: [UInt8] = [ASCII.carriageReturn, ASCII.lineFeed]

    /// Appends `method SP target SP version CRLF`, the fields and the empty line.
    public static func writeHead(_ head: HTTPRequestHead, into buffer: inout [UInt8]) {
        let bound = head.method.utf8.count + head.target.utf8.count + versionBound + 4 + fieldsBound(head.headers)
        buffer.appendWriting(atMost: bound) { writer in
            writer.append(utf8: head.method)
            writer.append(ASCII.space)
            writer.append(utf8: head.target)
            writer.append(ASCII.space)
            writeVersion(head.version, into: &writer)
            writer.append("\r\n")
            writeFields(head.headers, into: &writer)
        }
    }

    /// Appends `version SP status SP reason CRLF`, the fields and the empty line. An empty reason
    /// is written as the standard phrase for the status (see `HTTPResponseHead.reason`).
    public static func writeHead(_ head: HTTPResponseHead, into buffer: inout [UInt8]) {
        let reason = head.reason.isEmpty ? reasonPhrase(for: head.status) : head.reason
        let bound = versionBound + 20 + reason.utf8.count + 4 + fieldsBound(head.headers)
        buffer.appendWriting(atMost: bound) { writer in
            writeVersion(head.version, into: &writer)
            writer.append(ASCII.space)
            writeStatus(head.status, into: &writer)
            writer.append(ASCII.space)
            writer.append(utf8: reason)
            writer.append("\r\n")
            writeFields(head.headers, into: &writer)
        }
    }

    /// Appends one chunk: size in hex, CRLF, the bytes, CRLF (RFC 9112 section 7.1). Appends
    /// nothing for an empty buffer, since a zero-size chunk would end the body.
    public static func writeChunk(_ bytes: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        writeHex(bytes.count, into: &buffer)
        buffer.append(contentsOf: crlf)
        buffer.append(contentsOf: bytes)
        buffer.append(contentsOf: crlf)
    }

    /// Appends the last chunk `0 CRLF`, the trailer fields if any, and the final CRLF
    /// (RFC 9112 section 7.1.2).
    public static func writeLastChunk(trailers: HTTPHeaders?, into buffer: inout [UInt8]) {
        buffer.append(ASCII.zero)
        buffer.append(contentsOf: crlf)
        writeFields(trailers ?? HTTPHeaders(), into: &buffer)
    }

    /// The standard reason phrase for a status (RFC 9110 section 15), or "" for one it does
    /// not define.
    public static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 103: return "Early Hints"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 203: return "Non-Authoritative Information"
        case 204: return "No Content"
        case 205: return "Reset Content"
        case 206: return "Partial Content"
        case 300: return "Multiple Choices"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 402: return "Payment Required"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 407: return "Proxy Authentication Required"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 411: return "Length Required"
        case 412: return "Precondition Failed"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 416: return "Range Not Satisfiable"
        case 417: return "Expectation Failed"
        case 421: return "Misdirected Request"
        case 422: return "Unprocessable Content"
        case 426: return "Upgrade Required"
        case 428: return "Precondition Required"  // RFC 6585
        case 429: return "Too Many Requests"  // RFC 6585
        case 431: return "Request Header Fields Too Large"  // RFC 6585
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return ""
        }
    }

    /// `HTTP/` and two decimal numbers of any size.
    private static let versionBound = 5 + 2 * 20 + 1

    /// Room for the fields and the empty line: a Latin-1 value writes one byte per scalar, never
    /// more than its UTF-8 count.
    private static func fieldsBound(_ headers: HTTPHeaders) -> Int {
        var bound = 2
        headers.fields.withUnsafeBufferPointer { fields in
            for index in fields.indices { bound += fields[index].name.utf8.count + fields[index].value.utf8.count + 4 }
        }
        return bound
    }

    private static func writeFields(_ headers: HTTPHeaders, into writer: inout ByteWriter) {
        headers.fields.withUnsafeBufferPointer { fields in
            for index in fields.indices { writer.append(field: fields[index]) }
        }
        writer.append("\r\n")
    }

    private static func writeFields(_ headers: HTTPHeaders, into buffer: inout [UInt8]) {
        buffer.appendWriting(atMost: fieldsBound(headers)) { writeFields(headers, into: &$0) }
    }

    private static func writeVersion(_ version: HTTPVersion, into writer: inout ByteWriter) {
        writer.append("HTTP/")
        writer.append(decimal: version.major)
        writer.append(UInt8(ascii: "."))
        writer.append(decimal: version.minor)
    }

    /// Status codes are three digits (RFC 9110 section 15); others are written as they are.
    private static func writeStatus(_ status: Int, into writer: inout ByteWriter) {
        writer.append(decimal: status)
    }

    private static func writeHex(_ value: Int, into buffer: inout [UInt8]) {
        var shift = (Int.bitWidth - value.leadingZeroBitCount - 1) / 4 * 4
        let digits: StaticString = "0123456789abcdef"
        while shift >= 0 {
            buffer.append(digits.utf8Start[(value >> shift) & 0xF])
            shift -= 4
        }
    }
}
