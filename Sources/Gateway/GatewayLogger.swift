import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where log lines go. Each call carries one or more whole lines, each ending in a newline, at
/// most `PIPE_BUF` bytes in all unless a single line is longer.
public protocol LogSink: Sendable {
    func write(_ line: [UInt8])
}

/// Standard error, one `write(2)` per call: writes under `PIPE_BUF` never interleave.
public struct StandardErrorLogSink: LogSink {
    public init() {}

    public func write(_ line: [UInt8]) {
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

/// Keeps every line in memory, for tests and for showing what a run logged.
public final class MemoryLogSink: LogSink {
    private let lines = Mutex<[String]>([])

    public init() {}

    public func write(_ line: [UInt8]) {
        // A batch of lines is kept line by line, as a reader of the log would see them.
        let texts = line.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) + "\n" }
        lines.withLock { $0.append(contentsOf: texts) }
    }

    public var contents: [String] { lines.withLock { $0 } }
}

/// The gateway's logs: one JSON object per line, `{"level", "time", "message", ...fields}`, and the
/// access log (`AccessLogRecord`), which is always written. Fields are plain strings chosen by the
/// caller; no caller passes a secret or a token (fingerprints only).
public struct GatewayLogger: Sendable {
    public typealias Level = GatewayConfiguration.LogLevel

    public let level: Level
    public let sink: any LogSink

    public init(level: Level = .info, sink: any LogSink = StandardErrorLogSink()) {
        self.level = level
        self.sink = sink
    }

    public func isEnabled(_ level: Level) -> Bool { level >= self.level }

    public func log(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        guard isEnabled(level) else { return }
        var line: [UInt8] = []
        line.reserveCapacity(128 + message.utf8.count)
        line.append(contentsOf: "{\"level\":\"".utf8)
        line.append(contentsOf: level.rawValue.utf8)
        line.append(contentsOf: "\",\"time\":\"".utf8)
        AccessLogRecord.appendTimestamp(AccessLogRecord.currentUnixMilliseconds(), to: &line)
        line.append(contentsOf: "\",\"message\":".utf8)
        AccessLogRecord.appendJSONString(message, to: &line)
        for (key, value) in fields {
            line.append(UInt8(ascii: ","))
            AccessLogRecord.appendJSONString(key, to: &line)
            line.append(UInt8(ascii: ":"))
            AccessLogRecord.appendJSONString(value, to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        sink.write(line)
    }

    public func info(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.warning, message, fields)
    }
    public func error(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) { log(.error, message, fields) }
}
