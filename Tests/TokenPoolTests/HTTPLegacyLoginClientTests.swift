import Dispatch
import HTTP1
import Network
import Synchronization
import Testing
@testable import TokenPool

/// Answers each request with a scripted status and body, recording the heads.
final class ScriptedTransport: LegacyHTTPTransport {
    private let answers: Mutex<[Result<(status: Int, body: [UInt8]), LoginFailure>]>
    private let sent = Mutex<[HTTPRequestHead]>([])

    init(_ answers: [Result<(status: Int, body: [UInt8]), LoginFailure>]) {
        self.answers = Mutex(answers)
    }

    var heads: [HTTPRequestHead] { sent.withLock { $0 } }

    func send(_ head: HTTPRequestHead, maxBodyBytes: Int,
              completion: @escaping @Sendable (Result<(status: Int, body: [UInt8]), LoginFailure>) -> Void) {
        sent.withLock { $0.append(head) }
        completion(answers.withLock { $0.removeFirst() })
    }
}

@Suite("HTTP login client")
struct HTTPLegacyLoginClientTests {
    @Test("Logins and logouts go to the account's upstream and their answers are classified")
    func routesAndClassifies() throws {
        let transport = ScriptedTransport([
            .success((200, Array("tok-42\n".utf8))),
            .success((200, Array("<html><body>TOPdesk</body></html>".utf8))),
            .failure(.network(detail: "connection refused")),
            .success((200, [])),
        ])
        let client = HTTPLegacyLoginClient(upstreams: [
            "main": .init(hostHeader: "td.example:8443", pathPrefix: "/topdesk", transport: transport),
        ])
        let results = Mutex<[Result<String, LoginFailure>]>([])
        for _ in 0..<3 {
            client.login(account: operatorKey, password: "pw") { result in results.withLock { $0.append(result) } }
        }
        let other = AccountKey(upstream: "nowhere", kind: .person, login: "x")
        client.login(account: other, password: "pw") { result in results.withLock { $0.append(result) } }
        let collected = results.withLock { $0 }
        #expect((try? collected[0].get()) == "tok-42")
        #expect(throws: LoginFailure.implausibleToken(reason: "the body looks like an HTML or XML page")) {
            try collected[1].get()
        }
        #expect(throws: LoginFailure.network(detail: "connection refused")) { try collected[2].get() }
        #expect(throws: LoginFailure.network(detail: "no upstream named nowhere")) { try collected[3].get() }

        let logout = Mutex<Result<Void, LoginFailure>?>(nil)
        client.logout(token: LegacyToken(value: "tok-42", generation: 1, account: operatorKey)) { result in
            logout.withLock { $0 = result }
        }
        #expect((try? logout.withLock { $0 }?.get()) != nil)
        #expect(transport.heads.map(\.target) == ["/topdesk/tas/api/login/operator", "/topdesk/tas/api/login/operator",
                                                  "/topdesk/tas/api/login/operator", "/topdesk/tas/api/logout"])
        #expect(transport.heads.last?.headers.first(name: "Authorization") == "TOKEN id=\"tok-42\"")
        #expect(transport.heads.allSatisfy { $0.headers.first(name: "Host") == "td.example:8443" })
    }

    @Test("Waiters resume on the event loop they named")
    func resumesOnEventLoop() throws {
        let group = EventLoopGroup(loopCount: 2)
        defer { group.shutdown() }
        let client = FakeLoginClient()
        let pool = makePool(client: client, clock: ManualClock())
        let account = try #require(pool.account(for: operatorKey))
        let onLoop = Mutex<[Bool]>([])
        let done = DispatchSemaphore(value: 0)
        for loop in group.loops {
            account.lease(on: loop) { result in
                onLoop.withLock { $0.append(loop.inEventLoop && (try? result.get()) != nil) }
                done.signal()
            }
        }
        client.completeNextLogin()
        for _ in group.loops { #expect(done.wait(timeout: .now() + 5) == .success) }
        #expect(onLoop.withLock { $0 } == [true, true])
    }
}
