import Network
import Synchronization
import Testing
@testable import Gateway

/// Counts the writes a sink gets, keeping each one whole.
private final class CountingLogSink: LogSink {
    private let writes = Mutex<[[UInt8]]>([])

    func write(_ line: [UInt8]) {
        writes.withLock { $0.append(line) }
    }

    var all: [[UInt8]] { writes.withLock { $0 } }
}

@Suite("Access log batches")
struct AccessLogBatchTests {
    private static func record(_ number: Int, pathLength: Int = 20) -> AccessLogRecord {
        var record = AccessLogRecordTests.record(path: "/" + String(repeating: "p", count: pathLength))
        record.requestID = "req-\(number)"
        return record
    }

    private static func lines(of writes: [[UInt8]]) -> [String] {
        writes.flatMap { $0.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) } }
    }

    /// What the sink got after `fill` appended to a fresh batch within one pass of a loop.
    private static func writes(_ fill: @escaping (AccessLogBatch, CountingLogSink) -> Void) throws -> [[UInt8]] {
        let group = EventLoopGroup(loopCount: 1)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let sink = CountingLogSink()
        let batch = AccessLogBatch(loop: loop)
        try loop.runAndWait { fill(batch, sink) }
        // The pass ends after runAndWait's work; a second round trip waits for it.
        try loop.runAndWait {}
        return sink.all
    }

    @Test("The lines of one loop pass leave in one write, in order")
    func onePassOneWrite() throws {
        let writes = try Self.writes { batch, sink in
            for number in 0..<10 { batch.append(Self.record(number), to: sink) }
        }
        #expect(writes.count == 1)
        let lines = Self.lines(of: writes)
        #expect(lines.count == 10)
        #expect(lines.enumerated().allSatisfy { $1.contains("\"requestId\":\"req-\($0)\"") })
    }

    @Test("No write passes PIPE_BUF, so batches of two loops never interleave mid-line; nothing is lost")
    func batchesStayUnderPipeBuffer() throws {
        let writes = try Self.writes { batch, sink in
            for number in 0..<200 { batch.append(Self.record(number, pathLength: 100), to: sink) }
        }
        #expect(writes.count > 1)
        #expect(writes.allSatisfy { $0.count <= AccessLogBatch.maximumBytes && $0.last == 0x0A })
        #expect(Self.lines(of: writes).count == 200)
    }

    @Test("A line longer than a batch goes out whole, on its own")
    func longLineAlone() throws {
        let writes = try Self.writes { batch, sink in
            batch.append(Self.record(0), to: sink)
            batch.append(Self.record(1, pathLength: 5000), to: sink)
        }
        #expect(writes.count == 2)
        let lines = Self.lines(of: writes)
        #expect(lines.count == 2)
        // The short line was written first: order is kept across the long line.
        #expect(lines.first?.contains("\"req-0\"") == true)
    }
}
