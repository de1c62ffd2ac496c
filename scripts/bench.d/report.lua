-- wrk script for scripts/bench: only a done() hook, so wrk keeps its fast path (no per-request
-- Lua). Prints one line "BENCHJSON {...}" with counts, errors and latency percentiles in
-- microseconds; scripts/bench.d/report.py reads it.
done = function(summary, latency, requests)
    local errors = summary.errors
    io.write(string.format(
        'BENCHJSON {"requests":%d,"durationUs":%d,"bytes":%d,' ..
        '"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d,' ..
        '"p50Us":%.1f,"p90Us":%.1f,"p99Us":%.1f,"meanUs":%.1f,"maxUs":%.1f}\n',
        summary.requests, summary.duration, summary.bytes,
        errors.connect, errors.read, errors.write, errors.status, errors.timeout,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.mean, latency.max))
end
