import Dispatch
import Foundation
import Synchronization

/// The signals `tokenbridge serve` acts on, each delivered as an event on one serial dispatch
/// queue (a `DispatchSource` per signal; the default action is switched off first), so handlers
/// run on an ordinary thread, never inside a signal handler:
///
/// - `SIGHUP` runs `onReload` (ignored when there is none). Reloads never overlap.
/// - `SIGINT`, `SIGTERM`: `waitForTermination()` returns; a second one ends the process at once.
final class SignalWatcher: @unchecked Sendable {
    private let queue = DispatchQueue(label: "tokenbridge.signals")
    private let terminated = DispatchSemaphore(value: 0)
    /// Kept for the life of the watcher (a released source stops delivering); never mutated.
    private let sources: [DispatchSourceSignal]

    init(logger: GatewayLogger, onReload: (@Sendable () -> Void)?) {
        let terminated = self.terminated
        let terminationCount = Mutex(0)
        var installed: [DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: self.queue)
            let name = signalNumber == SIGINT ? "SIGINT" : signalNumber == SIGTERM ? "SIGTERM" : "SIGHUP"
            source.setEventHandler {
                if signalNumber == SIGHUP {
                    if let onReload {
                        onReload()
                    } else {
                        logger.info("signal ignored: nothing to reload", ["signal": name])
                    }
                    return
                }
                let count = terminationCount.withLock { count -> Int in
                    count += 1
                    return count
                }
                if count == 1 {
                    logger.info("signal received, stopping", ["signal": name])
                    terminated.signal()
                } else {
                    logger.warning("second signal, exiting without waiting", ["signal": name])
                    exit(1)
                }
            }
            source.resume()
            installed.append(source)
        }
        sources = installed
    }

    /// Blocks until SIGINT or SIGTERM arrives. The handlers stay installed afterwards.
    func waitForTermination() {
        terminated.wait()
    }
}
