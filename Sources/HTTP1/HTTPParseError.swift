/// Why a message was rejected. After an error the parser that threw it is dead: every later call
/// throws the same error, because the framing of anything that follows cannot be trusted.
///
/// `detail` never repeats header values or body bytes (they may carry credentials); it names the
/// rule and, where useful, the header field.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One case per rule a message can break.
    public enum Rule: String, Sendable, CaseIterable {
        // Start lines.
        case invalidRequestLine
        case invalidMethod
        case invalidRequestTarget
        case invalidVersion
        case unsupportedVersion
        case invalidStatusLine
        // Sizes.
        case requestLineTooLong
        case lineTooLong
        case headTooLarge
        case tooManyHeaders
        case trailersTooLarge
        case chunkLineTooLong
        // Line and field syntax.
        case bareLineFeed
        case whitespaceAfterStartLine
        case obsoleteLineFolding
        case whitespaceBeforeColon
        case missingColon
        case invalidHeaderName
        case invalidHeaderValue
        // Host.
        case missingHost
        case duplicateHost
        case invalidHost
        // Framing.
        case contentLengthWithTransferEncoding
        case conflictingContentLength
        case invalidContentLength
        case transferEncodingInHTTP10
        case unsupportedTransferCoding
        case chunkedNotFinal
        case chunkedAppliedTwice
        // Chunked body.
        case invalidChunkSize
        case invalidChunkExtension
        case missingChunkDataTerminator
        // End of input.
        case incompleteMessage
    }

    public let rule: Rule
    /// A sentence naming the rule broken, with the RFC section where one applies.
    public let detail: String

    public init(_ rule: Rule, _ detail: String) {
        self.rule = rule
        self.detail = detail
    }

    /// The status a server would answer a request breaking this rule with. A proxy that got the
    /// error from an upstream response answers 502 instead, whatever this says.
    public var suggestedStatus: Int {
        switch rule {
        case .requestLineTooLong:
            return 414
        case .lineTooLong, .headTooLarge, .tooManyHeaders, .trailersTooLarge:
            return 431
        case .unsupportedTransferCoding:
            return 501  // RFC 9112 section 6.1
        case .unsupportedVersion:
            return 505
        case .invalidRequestLine, .invalidMethod, .invalidRequestTarget, .invalidVersion, .invalidStatusLine,
             .chunkLineTooLong, .bareLineFeed, .whitespaceAfterStartLine, .obsoleteLineFolding,
             .whitespaceBeforeColon, .missingColon, .invalidHeaderName, .invalidHeaderValue, .missingHost,
             .duplicateHost, .invalidHost, .contentLengthWithTransferEncoding, .conflictingContentLength,
             .invalidContentLength, .transferEncodingInHTTP10, .chunkedNotFinal, .chunkedAppliedTwice,
             .invalidChunkSize, .invalidChunkExtension, .missingChunkDataTerminator, .incompleteMessage:
            return 400
        }
    }

    public var description: String {
        "\(rule.rawValue): \(detail)"
    }
}
