import HTTP1

extension HTTPServerConnection {
    private static let crlf: [UInt8] = [13, 10]

    func writeWholeResponse(_ head: HTTPResponseHead, body: [UInt8], method: String, version: HTTPVersion) {
        let framing = serializeHead(head, method: method, version: version, wholeBodyCount: body.count)
        if case .none = framing {
            connection.write(headBuffer)
        } else {
            connection.write(headBuffer, body)
        }
        responseFinished()
    }

    func writeStreamingHead(
        _ head: HTTPResponseHead, method: String, version: HTTPVersion
    ) -> HTTPResponder.ResponseFraming {
        let framing = serializeHead(head, method: method, version: version, wholeBodyCount: nil)
        connection.write(headBuffer)
        return framing
    }

    /// The head of a streamed response whose fields the handler writes itself (see
    /// `HTTPResponder.sendHead(status:reason:fieldsBound:writeFields:)`); only the status line and
    /// the `Connection` field the connection needs are added here.
    func writeStreamingHead(
        status: Int, reason: String, method: String, version: HTTPVersion, fieldsBound: Int,
        writeFields: (inout ByteWriter) -> HTTPResponder.BodyFraming
    ) -> HTTPResponder.ResponseFraming {
        let reasonText = reason.isEmpty ? HTTPSerializer.reasonPhrase(for: status) : reason
        headBuffer.removeAll(keepingCapacity: true)
        var framing = HTTPResponder.ResponseFraming.none
        headBuffer.appendWriting(atMost: 40 + reasonText.utf8.count + fieldsBound + 30) { writer in
            writer.append("HTTP/1.1 ")
            writer.append(decimal: status)
            writer.append(" ")
            writer.append(utf8: reasonText)
            writer.append("\r\n")
            framing = responseFraming(writeFields(&writer), status: status, method: method)
            if !machine.keepAlive {
                writer.append("Connection: close\r\n")
            } else if version == .http1_0 {
                writer.append("Connection: keep-alive\r\n")
            }
            writer.append("\r\n")
        }
        connection.write(headBuffer)
        return method == "HEAD" ? .none : framing
    }

    /// How a body the fields frame as `declared` goes out. A body that runs until the connection
    /// closes ends the connection; an answer to HEAD has none, so its connection stays.
    private func responseFraming(
        _ declared: HTTPResponder.BodyFraming, status: Int, method: String
    ) -> HTTPResponder.ResponseFraming {
        // RFC 9110 section 6.4.1: no content in 1xx, 204 and 304 responses, nor in answers to HEAD.
        guard status >= 200 && status != 204 && status != 304 else { return .none }
        switch declared {
        case .length(let length):
            return .length(remaining: length)
        case .chunked:
            return .chunked
        case .untilClose:
            if method != "HEAD" { machine.responseRequiresClose() }
            return .untilClose
        }
    }

    func writeChunk(_ bytes: [UInt8]) {
        var prefix: [UInt8] = []
        prefix.reserveCapacity(10)
        appendHex(bytes.count, to: &prefix)
        prefix.append(contentsOf: Self.crlf)
        connection.write(contentsOf: [prefix, bytes, Self.crlf])
    }

    func endStreamingResponse(framing: HTTPResponder.ResponseFraming, trailers: HTTPHeaders?) {
        switch framing {
        case .chunked:
            var last: [UInt8] = []
            HTTPSerializer.writeLastChunk(trailers: trailers, into: &last)
            connection.write(last)
        case .length(let remaining) where remaining > 0:
            // Fewer bytes than announced: only closing the connection tells the client so.
            machine.responseRequiresClose()
        case .none, .length, .untilClose:
            break
        }
        responseFinished()
    }

    private func responseFinished() {
        responder = nil
        act(machine.responseEnded(now: loop.now))
    }

    /// Serializes `head` into `headBuffer`, adding what the connection needs: `Content-Length` for a
    /// whole body without framing, `Connection: close` when this is the last response,
    /// `Connection: keep-alive` for an HTTP/1.0 client that keeps the connection. Returns how the
    /// body is framed. Extra fields are appended to the serialized bytes rather than to a copy of
    /// the head's header list, which would copy every field.
    private func serializeHead(
        _ head: HTTPResponseHead, method: String, version: HTTPVersion, wholeBodyCount: Int?
    ) -> HTTPResponder.ResponseFraming {
        let headers = head.headers
        // Most heads have no Transfer-Encoding or Connection, and then no list is built.
        let fields = headers.framingFields
        let transferCodings = fields.hasTransferEncoding ? headers.listElements(name: "Transfer-Encoding") : []
        let connectionOptions = fields.hasConnection ? headers.listElements(name: "Connection") : []
        let saysClose = connectionOptions.contains { $0.equalsIgnoringASCIICase("close") }
        let saysKeepAlive = connectionOptions.contains { $0.equalsIgnoringASCIICase("keep-alive") }

        var addedLength: Int?
        let declared: HTTPResponder.BodyFraming
        if let lastCoding = transferCodings.last {
            declared = lastCoding.equalsIgnoringASCIICase("chunked") ? .chunked : .untilClose
        } else if fields.contentLength != nil {
            declared = fields.contentLengthValue.map { .length($0) } ?? .untilClose
        } else if let wholeBodyCount {
            let statusAllowsBody = head.status >= 200 && head.status != 204 && head.status != 304
            if statusAllowsBody && (method != "HEAD" || wholeBodyCount > 0) { addedLength = wholeBodyCount }
            declared = .length(wholeBodyCount)
        } else {
            declared = .untilClose
        }
        if saysClose { machine.responseRequiresClose() }
        let framing = responseFraming(declared, status: head.status, method: method)

        headBuffer.removeAll(keepingCapacity: true)
        HTTPSerializer.writeHead(head, into: &headBuffer)
        headBuffer.removeLast(2)  // the empty line; extra fields go before it
        if let addedLength {
            headBuffer.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(addedLength, to: &headBuffer)
            headBuffer.append(contentsOf: Self.crlf)
        }
        if !machine.keepAlive {
            if !saysClose { headBuffer.append(contentsOf: "Connection: close\r\n".utf8) }
        } else if version == .http1_0 && !saysKeepAlive {
            headBuffer.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        headBuffer.append(contentsOf: Self.crlf)
        return method == "HEAD" ? .none : framing
    }

    private func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &buffer) }
        buffer.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private func appendHex(_ value: Int, to buffer: inout [UInt8]) {
        if value >= 16 { appendHex(value / 16, to: &buffer) }
        let digit = UInt8(value % 16)
        buffer.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
    }
}
