/// Size limits a parser enforces on what it must hold before it can act: heads, lines and
/// trailers. Body sizes are not limited here; bodies stream through as views into the caller's
/// buffer, and whoever buffers them decides how much is too much.
public struct HTTPLimits: Sendable, Equatable {
    /// Bytes of a whole head: start line, every field line and the empty line ending the head,
    /// CRLFs included. Default 32 KiB. Exceeding it fails with `headTooLarge` (431).
    public var maxHeadBytes: Int = 32 * 1024
    /// Header field lines in one head, and trailer field lines after a chunked body.
    /// Default 100. Exceeding it fails with `tooManyHeaders` (431).
    public var maxHeaderCount: Int = 100
    /// Bytes of the request line, the status line or one field line, CRLF not counted.
    /// Default 8 KiB. Exceeding it fails with `requestLineTooLong` (414) for a request line and
    /// `lineTooLong` (431) otherwise.
    public var maxLineLength: Int = 8 * 1024
    /// Bytes of one chunk-size line including its extensions, CRLF not counted. Default 4 KiB.
    /// Exceeding it fails with `chunkLineTooLong` (400).
    public var maxChunkLineLength: Int = 4 * 1024
    /// Bytes of the trailer section after the last chunk, the final empty line's CRLF included.
    /// Default 16 KiB. Exceeding it fails with `trailersTooLarge` (431).
    public var maxTrailerBytes: Int = 16 * 1024

    public init() {}

    public init(
        maxHeadBytes: Int = 32 * 1024,
        maxHeaderCount: Int = 100,
        maxLineLength: Int = 8 * 1024,
        maxChunkLineLength: Int = 4 * 1024,
        maxTrailerBytes: Int = 16 * 1024
    ) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxLineLength = maxLineLength
        self.maxChunkLineLength = maxChunkLineLength
        self.maxTrailerBytes = maxTrailerBytes
    }
}
