import Synchronization
@testable import TokenPool

/// A clock the test moves by hand; scheduled work runs when the clock passes its moment.
final class ManualClock: TokenPoolClock {
    private struct State {
        var now: UInt64 = 1_000_000_000
        var scheduled: [(at: UInt64, work: @Sendable () -> Void)] = []
    }

    private let state = Mutex(State())

    func now() -> UInt64 {
        state.withLock { $0.now }
    }

    func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) {
        state.withLock { $0.scheduled.append(($0.now + delay.nanosecondsClamped, work)) }
    }

    func advance(by delay: Duration) {
        let due = state.withLock { state -> [@Sendable () -> Void] in
            state.now += delay.nanosecondsClamped
            let now = state.now
            let due = state.scheduled.filter { $0.at <= now }.map(\.work)
            state.scheduled.removeAll { $0.at <= now }
            return due
        }
        for work in due { work() }
    }
}

struct FixedJitter: JitterSource {
    var fraction: Double = 0
    func nextFraction() -> Double { fraction }
}

/// Records every login and logout. By default a login stays pending until the test completes it;
/// with `respond` set, logins answer at once with what it returns.
final class FakeLoginClient: LegacyLoginClient {
    struct Login {
        var account: AccountKey
        var password: String
    }

    private struct State {
        var logins: [Login] = []
        var pending: [(account: AccountKey, completion: @Sendable (Result<String, LoginFailure>) -> Void)] = []
        var logouts: [String] = []
        var pendingLogouts: [@Sendable (Result<Void, LoginFailure>) -> Void] = []
        var respond: (@Sendable (AccountKey, String, Int) -> Result<String, LoginFailure>)?
        var answerLogouts = true
        var issued = 0
        var checks: [String] = []
        var checkAnswer: Result<Bool, LoginFailure> = .success(true)
    }

    private let state = Mutex(State())

    init(respond: (@Sendable (AccountKey, String, Int) -> Result<String, LoginFailure>)? = nil) {
        state.withLock { $0.respond = respond }
    }

    func setRespond(_ respond: (@Sendable (AccountKey, String, Int) -> Result<String, LoginFailure>)?) {
        state.withLock { $0.respond = respond }
    }

    func holdLogouts() {
        state.withLock { $0.answerLogouts = false }
    }

    var logins: [Login] { state.withLock { $0.logins } }
    var loginCount: Int { state.withLock { $0.logins.count } }
    var pendingCount: Int { state.withLock { $0.pending.count } }
    var logouts: [String] { state.withLock { $0.logouts } }
    var checks: [String] { state.withLock { $0.checks } }

    /// What `checkToken` answers from now on: true (the token works), false (401) or a failure.
    func setCheckAnswer(_ answer: Result<Bool, LoginFailure>) {
        state.withLock { $0.checkAnswer = answer }
    }

    func checkToken(_ token: LegacyToken, completion: @escaping @Sendable (Result<Bool, LoginFailure>) -> Void) {
        let answer = state.withLock { state in
            state.checks.append(token.value)
            return state.checkAnswer
        }
        completion(answer)
    }

    func login(account: AccountKey, password: String,
               completion: @escaping @Sendable (Result<String, LoginFailure>) -> Void) {
        let answer = state.withLock { state -> Result<String, LoginFailure>? in
            state.logins.append(Login(account: account, password: password))
            guard let respond = state.respond else {
                state.pending.append((account, completion))
                return nil
            }
            return respond(account, password, state.logins.count)
        }
        if let answer { completion(answer) }
    }

    /// Completes the oldest pending login; a nil result issues a fresh token "token-N".
    @discardableResult
    func completeNextLogin(with result: Result<String, LoginFailure>? = nil) -> String? {
        let (completion, answer) = state.withLock { state in
            let next = state.pending.removeFirst()
            state.issued += 1
            return (next.completion, result ?? .success("token-\(state.issued)"))
        }
        completion(answer)
        return try? answer.get()
    }

    func logout(token: LegacyToken, completion: @escaping @Sendable (Result<Void, LoginFailure>) -> Void) {
        let answerNow = state.withLock { state -> Bool in
            state.logouts.append(token.value)
            if !state.answerLogouts { state.pendingLogouts.append(completion) }
            return state.answerLogouts
        }
        if answerNow { completion(.success(())) }
    }
}

/// Collects lease results from any thread.
final class LeaseResults: Sendable {
    private let results = Mutex<[Result<LegacyToken, TokenLeaseError>]>([])

    func record(_ result: Result<LegacyToken, TokenLeaseError>) {
        results.withLock { $0.append(result) }
    }

    var all: [Result<LegacyToken, TokenLeaseError>] { results.withLock { $0 } }
    var tokens: [String] { all.compactMap { try? $0.get().value } }
    var errors: [TokenLeaseError] {
        all.compactMap { if case .failure(let error) = $0 { return error } else { return nil } }
    }
}

let operatorKey = AccountKey(upstream: "main", kind: .operator, login: "api")

func makePool(policy: TokenPolicy = TokenPolicy(), accounts: [AccountKey] = [operatorKey],
              client: FakeLoginClient, clock: ManualClock, jitter: Double = 0) -> TokenPool {
    TokenPool(policy: policy, accounts: accounts.map { TokenAccountConfiguration(key: $0, password: "secret") },
              client: client, clock: clock, jitter: FixedJitter(fraction: jitter))
}

extension TokenAccount {
    /// Leases with an inline executor and returns what arrived synchronously, if anything.
    func leaseNow(into results: LeaseResults) {
        lease(on: InlineCallbackExecutor()) { results.record($0) }
    }
}
