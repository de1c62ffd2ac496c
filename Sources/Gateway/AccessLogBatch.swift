import Network

/// The access-log lines of one event loop, gathered during a loop pass and handed to the sink in
/// one piece before the pass flushes its output: under load one `write(2)` carries many lines
/// instead of one each. A line is written before the response it describes leaves the process,
/// as it was when each line had its own write.
///
/// A batch never exceeds `maximumBytes` (`PIPE_BUF`), so when standard error is a pipe, the
/// batches of different loops (and the gateway's other log lines) never interleave mid-line.
/// Loop-confined (hence unchecked `Sendable`): every method runs on the loop the batch belongs to.
final class AccessLogBatch: @unchecked Sendable {
    static let maximumBytes = 4096

    private let loop: EventLoop
    private var pending: [UInt8] = []
    private var line: [UInt8] = []
    private var sink: (any LogSink)?
    private var timestamps = AccessLogRecord.TimestampCache()

    init(loop: EventLoop) {
        self.loop = loop
        pending.reserveCapacity(Self.maximumBytes)
        line.reserveCapacity(512)
    }

    func append(_ record: AccessLogRecord, to sink: any LogSink) {
        line.removeAll(keepingCapacity: true)
        record.write(into: &line, timestamps: &timestamps)
        if pending.count + line.count > Self.maximumBytes { write() }
        if line.count > Self.maximumBytes {
            // A line that long (a path full of escapes) goes out on its own.
            sink.write(line)
            return
        }
        if pending.isEmpty {
            self.sink = sink
            loop.runBeforeOutputFlush { [self] in write() }
        }
        pending.append(contentsOf: line)
    }

    /// Hands the gathered lines to the sink. Also runs when the loop stops, so none is lost.
    private func write() {
        guard !pending.isEmpty, let sink else { return }
        sink.write(pending)
        pending.removeAll(keepingCapacity: true)
    }
}
