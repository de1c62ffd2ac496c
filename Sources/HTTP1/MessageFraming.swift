/// What Content-Length and Transfer-Encoding say about a body, before status codes and request
/// methods are taken into account (RFC 9112 section 6.3).
enum DeclaredFraming: Equatable {
    /// Neither field is present.
    case undeclared
    case length(Int)
    case chunked
}

/// The framing rules that let a proxy and an upstream disagree about where a message ends when
/// applied loosely; every ambiguity is rejected (RFC 9112 sections 6.1, 6.3 and 11.2).
enum MessageFraming {
    /// `anyTransferCoding`: for a response that has no body whatever its fields say (to HEAD, 204,
    /// 304); its Transfer-Encoding may then name any codings, but still not come with
    /// Content-Length or in HTTP/1.0.
    static func declaredFraming(
        headers: HTTPHeaders, positions: FramingFieldPositions, version: HTTPVersion,
        anyTransferCoding: Bool = false
    ) throws(HTTPParseError) -> DeclaredFraming {
        if !positions.transferEncoding.isEmpty {
            // RFC 9112 section 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            if version == .http1_0 {
                throw HTTPParseError(.transferEncodingInHTTP10,
                                     "Transfer-Encoding in an HTTP/1.0 message (RFC 9112 section 6.1).")
            }
            // RFC 9112 section 6.3 item 3 and section 11.2: both fields present is how requests are
            // smuggled; reject instead of letting Transfer-Encoding win.
            if !positions.contentLength.isEmpty {
                throw HTTPParseError(.contentLengthWithTransferEncoding,
                                     "Content-Length together with Transfer-Encoding (RFC 9112 section 6.1).")
            }
            if !anyTransferCoding {
                try checkTransferCodings(headers: headers, positions: positions.transferEncoding)
            }
            return .chunked
        }
        if !positions.contentLength.isEmpty {
            return .length(try contentLength(headers: headers, positions: positions.contentLength))
        }
        return .undeclared
    }

    /// Content-Length = 1*DIGIT (RFC 9110 section 8.6). A list of identical values, in one field or
    /// several (`5, 5`), is accepted as that value, as section 8.6 allows; any difference is
    /// rejected. Empty list elements are rejected too: nothing legitimate sends them here.
    static func contentLength(headers: HTTPHeaders, positions: FieldPositions) throws(HTTPParseError) -> Int {
        var result: Int? = nil
        for position in positions {
            var value = headers.fields[position].value
            switch value.withUTF8({ contentLengthValues(UnsafeRawBufferPointer($0), agreeingWith: result) }) {
            case .value(let agreed):
                result = agreed
            case .invalid:
                throw HTTPParseError(.invalidContentLength,
                                     "Content-Length is not a list of decimal digits (RFC 9110 section 8.6).")
            case .conflicting:
                throw HTTPParseError(.conflictingContentLength,
                                     "Content-Length values differ (RFC 9112 section 6.3).")
            }
        }
        return result ?? 0
    }

    private enum ContentLengthParse {
        case value(Int)
        case invalid
        case conflicting
    }

    private static func contentLengthValues(
        _ bytes: UnsafeRawBufferPointer, agreeingWith known: Int?
    ) -> ContentLengthParse {
        var agreed = known
        var index = 0
        let end = bytes.count
        while true {
            while index < end && ByteClass.isWhitespace(bytes[index]) { index += 1 }
            var value = 0
            let digitsStart = index
            while index < end && ByteClass.isDigit(bytes[index]) {
                let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = times10.addingReportingOverflow(Int(bytes[index] &- ASCII.zero))
                if overflowA || overflowB { return .invalid }
                value = sum
                index += 1
            }
            if index == digitsStart { return .invalid }
            while index < end && ByteClass.isWhitespace(bytes[index]) { index += 1 }
            if let agreed, agreed != value { return .conflicting }
            agreed = value
            if index == end { return .value(value) }
            guard bytes[index] == UInt8(ascii: ",") else { return .invalid }
            index += 1
        }
    }

    /// Transfer-Encoding must name chunked, once, and nothing else (RFC 9112 sections 6.1 and 6.3
    /// item 4; section 7: chunked must not be applied twice). Another coding beneath chunked (gzip,
    /// deflate) is refused rather than passed along: the server and client decode the chunked
    /// coding and the gateway re-frames the body, so an inner coding would reach the other side
    /// unannounced, as bytes it cannot read. Requests get 501 (RFC 9112 section 6.1).
    private static func checkTransferCodings(headers: HTTPHeaders, positions: FieldPositions) throws(HTTPParseError) {
        var sawChunked = false
        var lastIsChunked = false
        for position in positions {
            var value = headers.fields[position].value
            let failure: HTTPParseError? = value.withUTF8 { utf8 in
                let bytes = UnsafeRawBufferPointer(utf8)
                var elementStart = 0
                while elementStart <= bytes.count {
                    var elementEnd = elementStart
                    while elementEnd < bytes.count && bytes[elementEnd] != UInt8(ascii: ",") { elementEnd += 1 }
                    var start = elementStart, end = elementEnd
                    while start < end && ByteClass.isWhitespace(bytes[start]) { start += 1 }
                    while end > start && ByteClass.isWhitespace(bytes[end - 1]) { end -= 1 }
                    elementStart = elementEnd + 1
                    // RFC 9110 section 5.6.1: empty list elements are ignored.
                    if start == end { continue }

                    let isChunked = bytes.equalsIgnoringCase(start, end, lowercase: "chunked")
                    if isChunked {
                        if sawChunked {
                            return HTTPParseError(.chunkedAppliedTwice,
                                                  "Transfer-Encoding names chunked twice (RFC 9112 section 7).")
                        }
                        sawChunked = true
                    } else {
                        return HTTPParseError(.unsupportedTransferCoding,
                                              "Transfer-Encoding names a coding this server does not implement "
                                                  + "(RFC 9112 section 6.1).")
                    }
                    lastIsChunked = isChunked
                }
                return nil
            }
            if let failure { throw failure }
        }
        if !lastIsChunked {
            throw HTTPParseError(.chunkedNotFinal,
                                 "The final transfer coding is not chunked (RFC 9112 section 6.3).")
        }
    }
}
