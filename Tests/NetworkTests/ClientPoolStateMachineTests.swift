import Testing
@testable import Network

@Suite("Upstream pool state machine")
struct ClientPoolStateMachineTests {
    typealias Pool = HTTPClientPoolStateMachine<String>

    private static let second: UInt64 = 1_000_000_000
    private let reset = HTTPClientError(kind: .connectionClosed, detail: "write: EPIPE")

    private func makePool(max: Int = 2, idleSeconds: UInt64 = 50, queueSeconds: UInt64 = 10) -> Pool {
        Pool(configuration: .init(maxConnections: max, idleTimeoutNanoseconds: idleSeconds * Self.second,
                                  queueTimeoutNanoseconds: queueSeconds * Self.second))
    }

    /// A compact, comparable rendering of the actions.
    private func describe(_ actions: [Pool.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .createConnection(let id): "create \(id)"
            case .startRequest(let request, let id, let reused): "start \(request) on \(id)\(reused ? " reused" : "")"
            case .closeConnection(let id): "close \(id)"
            case .failRequest(let request, let error): "fail \(request) \(error.kind)"
            }
        }
    }

    private func run(_ body: (inout [Pool.Action]) -> Void) -> [String] {
        var actions: [Pool.Action] = []
        body(&actions)
        return describe(actions)
    }

    @Test("the first request starts a connection and gets it once established")
    func firstRequest() {
        var pool = makePool()
        #expect(run { pool.execute("a", now: 0, into: &$0) } == ["create 0"])
        #expect(pool.waiterCount == 1)
        #expect(run { pool.connectionEstablished(0, now: 1, into: &$0) } == ["start a on 0"])
        #expect(pool.leasedCount == 1)
        #expect(pool.waiterCount == 0)
    }

    @Test("a released connection is reused by the next request")
    func reuse() {
        var pool = makePool()
        _ = run { pool.execute("a", now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(0, now: 1, into: &$0) }
        #expect(run { pool.connectionReleased(0, now: 2, into: &$0) } == [])
        #expect(pool.idleCount == 1)
        #expect(run { pool.execute("b", now: 3, into: &$0) } == ["start b on 0 reused"])
        #expect(pool.connectionCount == 1)
    }

    @Test("requests beyond the cap wait in FIFO order and get released connections")
    func capAndQueue() {
        var pool = makePool(max: 2)
        #expect(run { pool.execute("a", now: 0, into: &$0) } == ["create 0"])
        #expect(run { pool.execute("b", now: 0, into: &$0) } == ["create 1"])
        #expect(run { pool.execute("c", now: 0, into: &$0) } == [])
        #expect(run { pool.execute("d", now: 0, into: &$0) } == [])
        #expect(pool.connectionCount == 2)
        #expect(run { pool.connectionEstablished(1, now: 1, into: &$0) } == ["start a on 1"])
        #expect(run { pool.connectionEstablished(0, now: 1, into: &$0) } == ["start b on 0"])
        #expect(run { pool.connectionReleased(0, now: 2, into: &$0) } == ["start c on 0 reused"])
        #expect(run { pool.connectionReleased(1, now: 2, into: &$0) } == ["start d on 1 reused"])
        #expect(pool.waiterCount == 0)
    }

    @Test("a connection that closes after its response makes room for a waiter")
    func closedConnectionMakesRoom() {
        var pool = makePool(max: 1)
        _ = run { pool.execute("a", now: 0, into: &$0) }
        _ = run { pool.execute("b", now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(0, now: 1, into: &$0) }
        #expect(run { pool.connectionClosed(0, into: &$0) } == ["create 1"])
        #expect(run { pool.connectionEstablished(1, now: 2, into: &$0) } == ["start b on 1"])
    }

    @Test("a connection closed while idle is forgotten and the next request gets a fresh one")
    func closedWhileIdle() {
        var pool = makePool()
        _ = run { pool.execute("a", now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(0, now: 1, into: &$0) }
        _ = run { pool.connectionReleased(0, now: 2, into: &$0) }
        #expect(run { pool.connectionClosed(0, into: &$0) } == [])
        #expect(pool.connectionCount == 0)
        #expect(pool.idleCount == 0)
        #expect(run { pool.execute("b", now: 3, into: &$0) } == ["create 1"])
    }

    @Test("the most recently released idle connection is used first")
    func lifoIdle() {
        var pool = makePool()
        _ = run { pool.execute("a", now: 0, into: &$0) }
        _ = run { pool.execute("b", now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(0, now: 1, into: &$0) }
        _ = run { pool.connectionEstablished(1, now: 1, into: &$0) }
        _ = run { pool.connectionReleased(0, now: 2, into: &$0) }
        _ = run { pool.connectionReleased(1, now: 3, into: &$0) }
        #expect(run { pool.execute("c", now: 4, into: &$0) } == ["start c on 1 reused"])
    }

    @Test("idle connections are closed once their idle timeout passed, oldest first")
    func idleEviction() {
        var pool = makePool(idleSeconds: 5)
        _ = run { pool.execute("a", now: 0, into: &$0) }
        _ = run { pool.execute("b", now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(0, now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(1, now: 0, into: &$0) }
        _ = run { pool.connectionReleased(0, now: 1 * Self.second, into: &$0) }
        _ = run { pool.connectionReleased(1, now: 3 * Self.second, into: &$0) }
        #expect(pool.nextDeadline == 6 * Self.second)
        #expect(run { pool.expire(now: 6 * Self.second - 1, into: &$0) } == [])
        #expect(run { pool.expire(now: 6 * Self.second, into: &$0) } == ["close 0"])
        #expect(pool.nextDeadline == 8 * Self.second)
        #expect(run { pool.expire(now: 9 * Self.second, into: &$0) } == ["close 1"])
        #expect(pool.nextDeadline == nil)
        #expect(pool.connectionCount == 0)
    }

    @Test("a waiter that gets no connection within the queue timeout fails with a timeout")
    func waiterTimeout() {
        var pool = makePool(max: 1, queueSeconds: 2)
        _ = run { pool.execute("a", now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(0, now: 0, into: &$0) }
        _ = run { pool.execute("b", now: 1 * Self.second, into: &$0) }
        #expect(pool.nextDeadline == 3 * Self.second)
        #expect(run { pool.expire(now: 2 * Self.second, into: &$0) } == [])
        #expect(run { pool.expire(now: 3 * Self.second, into: &$0) } == ["fail b timeout"])
        #expect(pool.waiterCount == 0)
        #expect(run { pool.connectionReleased(0, now: 4 * Self.second, into: &$0) } == [])
        #expect(pool.idleCount == 1)
    }

    @Test("a connect failure fails the oldest waiter and starts over for the rest")
    func connectFailure() {
        let refused = HTTPClientError(kind: .connectFailed, detail: "connect: ECONNREFUSED")
        var pool = makePool(max: 1)
        _ = run { pool.execute("a", now: 0, into: &$0) }
        _ = run { pool.execute("b", now: 0, into: &$0) }
        #expect(run { pool.connectionFailedToConnect(0, error: refused, into: &$0) }
                == ["fail a connectFailed", "create 1"])
        #expect(run { pool.connectionFailedToConnect(1, error: refused, into: &$0) } == ["fail b connectFailed"])
        #expect(pool.connectionCount == 0)
    }

    @Test("a reused connection failing before any response byte is retried once on a fresh connection")
    func retryOnFreshConnection() {
        var pool = makePool(max: 2)
        _ = run { pool.execute("a", now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(0, now: 0, into: &$0) }
        _ = run { pool.connectionReleased(0, now: 1, into: &$0) }
        #expect(run { pool.execute("b", now: 2, into: &$0) } == ["start b on 0 reused"])
        var actions: [Pool.Action] = []
        let retried = pool.requestFailed("b", on: 0, error: reset, connectionWasReused: true,
                                         alreadyRetried: false, now: 3, into: &actions)
        #expect(retried)
        #expect(describe(actions) == ["create 1"])
        #expect(run { pool.connectionEstablished(1, now: 4, into: &$0) } == ["start b on 1"])
        // The fresh connection fails too: no second retry.
        actions.removeAll()
        let again = pool.requestFailed("b", on: 1, error: reset, connectionWasReused: false,
                                       alreadyRetried: true, now: 5, into: &actions)
        #expect(!again)
        #expect(describe(actions) == ["fail b connectionClosed"])
        #expect(pool.connectionCount == 0)
    }

    @Test("a retried request skips idle reused connections and waits for a fresh one")
    func retrySkipsReusedIdle() {
        var pool = makePool(max: 3)
        for request in ["a", "b"] { _ = run { pool.execute(request, now: 0, into: &$0) } }
        _ = run { pool.connectionEstablished(0, now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(1, now: 0, into: &$0) }
        _ = run { pool.connectionReleased(1, now: 1, into: &$0) }
        // Connection 1 (reused) is idle; "a" fails on connection 0 and needs a fresh connection.
        var actions: [Pool.Action] = []
        pool.requestFailed("a", on: 0, error: reset, connectionWasReused: true, alreadyRetried: false,
                           now: 2, into: &actions)
        #expect(describe(actions) == ["create 2"])
        // A normal request behind it may still take the idle reused connection.
        #expect(run { pool.execute("c", now: 3, into: &$0) } == ["start c on 1 reused"])
        #expect(run { pool.connectionEstablished(2, now: 4, into: &$0) } == ["start a on 2"])
    }

    @Test("a retry at the cap starts its fresh connection in the slot the failed one left")
    func retryAtCapEvictsIdle() {
        var pool = makePool(max: 2)
        for request in ["a", "b"] { _ = run { pool.execute(request, now: 0, into: &$0) } }
        _ = run { pool.connectionEstablished(0, now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(1, now: 0, into: &$0) }
        _ = run { pool.connectionReleased(0, now: 1, into: &$0) }
        _ = run { pool.connectionReleased(1, now: 1, into: &$0) }
        _ = run { pool.execute("c", now: 2, into: &$0) }            // takes 1
        _ = run { pool.connectionReleased(1, now: 3, into: &$0) }
        _ = run { pool.execute("d", now: 4, into: &$0) }            // takes 1 again
        _ = run { pool.execute("e", now: 4, into: &$0) }            // takes 0
        _ = run { pool.connectionReleased(0, now: 5, into: &$0) }   // 0 idle, 1 leased by d
        var actions: [Pool.Action] = []
        pool.requestFailed("d", on: 1, error: reset, connectionWasReused: true, alreadyRetried: false,
                           now: 6, into: &actions)
        #expect(describe(actions) == ["create 2"])
        _ = run { pool.execute("f", now: 7, into: &$0) }            // takes idle 0
        #expect(pool.connectionCount == 2)

        var full = makePool(max: 1)
        _ = run { full.execute("a", now: 0, into: &$0) }
        _ = run { full.connectionEstablished(0, now: 0, into: &$0) }
        _ = run { full.connectionReleased(0, now: 1, into: &$0) }
        _ = run { full.execute("b", now: 2, into: &$0) }
        actions.removeAll()
        full.requestFailed("b", on: 0, error: reset, connectionWasReused: true, alreadyRetried: false,
                           now: 3, into: &actions)
        #expect(describe(actions) == ["create 1"])
    }

    @Test("a stale connection found at lease time is dropped and the request takes the next one")
    func staleAtLease() {
        var pool = makePool(max: 2)
        for request in ["a", "b"] { _ = run { pool.execute(request, now: 0, into: &$0) } }
        _ = run { pool.connectionEstablished(0, now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(1, now: 0, into: &$0) }
        _ = run { pool.connectionReleased(0, now: 1, into: &$0) }
        _ = run { pool.connectionReleased(1, now: 2, into: &$0) }
        #expect(run { pool.execute("c", now: 3, into: &$0) } == ["start c on 1 reused"])
        #expect(run { pool.leasedConnectionWasStale(1, request: "c", now: 3, into: &$0) } == ["start c on 0 reused"])
        #expect(pool.connectionCount == 1)
        #expect(run { pool.leasedConnectionWasStale(0, request: "c", now: 3, into: &$0) } == ["create 2"])
        #expect(run { pool.connectionEstablished(2, now: 4, into: &$0) } == ["start c on 2"])
    }

    @Test("the retry decision: reused, no response byte, closed or reset, first attempt")
    func retryDecision() {
        var bytes = reset
        bytes.receivedResponseBytes = true
        let timeout = HTTPClientError(kind: .timeout, detail: "no response head")
        let broken = HTTPClientError(kind: .protocolError, detail: "invalid status line")
        #expect(Pool.shouldRetry(error: reset, connectionWasReused: true, alreadyRetried: false))
        #expect(!Pool.shouldRetry(error: reset, connectionWasReused: false, alreadyRetried: false))
        #expect(!Pool.shouldRetry(error: reset, connectionWasReused: true, alreadyRetried: true))
        #expect(!Pool.shouldRetry(error: bytes, connectionWasReused: true, alreadyRetried: false))
        #expect(!Pool.shouldRetry(error: timeout, connectionWasReused: true, alreadyRetried: false))
        #expect(!Pool.shouldRetry(error: broken, connectionWasReused: true, alreadyRetried: false))
    }

    @Test("a non-idempotent request is resent only when none of its bytes left")
    func nonIdempotentRetryDecision() {
        #expect(Pool.isIdempotent(method: "GET") && Pool.isIdempotent(method: "PUT"))
        #expect(Pool.isIdempotent(method: "DELETE") && Pool.isIdempotent(method: "OPTIONS"))
        #expect(!Pool.isIdempotent(method: "POST") && !Pool.isIdempotent(method: "PATCH"))
        #expect(!Pool.isIdempotent(method: "LOCK") && !Pool.isIdempotent(method: "get"))
        #expect(Pool.shouldRetry(error: reset, connectionWasReused: true, alreadyRetried: false,
                                 requestIsIdempotent: false, requestBytesWereSent: false))
        #expect(!Pool.shouldRetry(error: reset, connectionWasReused: true, alreadyRetried: false,
                                  requestIsIdempotent: false, requestBytesWereSent: true))
        #expect(Pool.shouldRetry(error: reset, connectionWasReused: true, alreadyRetried: false,
                                 requestIsIdempotent: true, requestBytesWereSent: true))

        var pool = makePool()
        _ = run { pool.execute("post", now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(0, now: 0, into: &$0) }
        _ = run { pool.connectionReleased(0, now: 1, into: &$0) }
        _ = run { pool.execute("post", now: 2, into: &$0) }
        var actions: [Pool.Action] = []
        let retried = pool.requestFailed("post", on: 0, error: reset, connectionWasReused: true,
                                         alreadyRetried: false, requestIsIdempotent: false,
                                         requestBytesWereSent: true, now: 3, into: &actions)
        #expect(!retried)
        #expect(describe(actions) == ["fail post connectionClosed"])
    }

    @Test("failure after response bytes is reported, not retried")
    func noRetryAfterBytes() {
        var pool = makePool()
        _ = run { pool.execute("a", now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(0, now: 0, into: &$0) }
        _ = run { pool.connectionReleased(0, now: 1, into: &$0) }
        _ = run { pool.execute("b", now: 2, into: &$0) }
        var bytes = reset
        bytes.receivedResponseBytes = true
        var actions: [Pool.Action] = []
        let retried = pool.requestFailed("b", on: 0, error: bytes, connectionWasReused: true,
                                         alreadyRetried: false, now: 3, into: &actions)
        #expect(!retried)
        #expect(describe(actions) == ["fail b connectionClosed"])
    }

    @Test("shutdown fails waiters, closes idle connections and closes the rest as they return")
    func shutdown() {
        var pool = makePool(max: 2)
        for request in ["a", "b", "c"] { _ = run { pool.execute(request, now: 0, into: &$0) } }
        _ = run { pool.connectionEstablished(0, now: 0, into: &$0) }   // a leased on 0, 1 connecting
        #expect(run { pool.shutdown(into: &$0) } == ["fail b poolClosed", "fail c poolClosed"])
        #expect(!pool.isDrained)
        #expect(run { pool.connectionEstablished(1, now: 1, into: &$0) } == ["close 1"])
        #expect(run { pool.connectionReleased(0, now: 1, into: &$0) } == ["close 0"])
        #expect(pool.isDrained)
        #expect(run { pool.execute("d", now: 2, into: &$0) } == ["fail d poolClosed"])
        #expect(run { pool.shutdown(into: &$0) } == [])
    }

    @Test("shutdown closes idle connections at once")
    func shutdownIdle() {
        var pool = makePool()
        _ = run { pool.execute("a", now: 0, into: &$0) }
        _ = run { pool.connectionEstablished(0, now: 0, into: &$0) }
        _ = run { pool.connectionReleased(0, now: 1, into: &$0) }
        #expect(run { pool.shutdown(into: &$0) } == ["close 0"])
        #expect(pool.isDrained)
    }

    @Test("the waiter queue keeps FIFO order through prepends, removals and compaction")
    func waiterQueue() {
        var queue = HTTPClientWaiterQueue<Int>()
        for value in 0..<100 { queue.append(value) }
        for expected in 0..<60 { #expect(queue.popFirst() == expected) }
        queue.prepend(-1)
        #expect(queue[0] == -1)
        #expect(queue.remove(at: 1) == 60)
        let odd = queue.removeAll { $0 > 0 && $0 % 2 != 0 }
        #expect(odd.first == 61)
        var rest: [Int] = []
        while let value = queue.popFirst() { rest.append(value) }
        #expect(rest == [-1] + Array(stride(from: 62, to: 100, by: 2)))
        #expect(queue.isEmpty)
    }
}
