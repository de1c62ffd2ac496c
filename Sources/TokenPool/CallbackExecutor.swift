/// Where a waiting lease's completion runs. `Network.EventLoop` fits as is (its `execute` has this
/// shape), so a request waiting for a login is resumed on the loop that owns its connection.
public protocol CallbackExecutor: Sendable {
    func execute(_ work: @escaping @Sendable () -> Void)
}

/// Runs the work at once on the calling thread. For tests and for callers that hop themselves.
public struct InlineCallbackExecutor: CallbackExecutor {
    public init() {}

    public func execute(_ work: @escaping @Sendable () -> Void) {
        work()
    }
}

/// A lease waiting for a login. The completion is not `Sendable` (it typically captures
/// loop-confined objects); it is only ever invoked through the executor the caller named, which is
/// what makes carrying it across threads sound.
struct TokenWaiter: @unchecked Sendable {
    let executor: any CallbackExecutor
    let completion: (Result<LegacyToken, TokenLeaseError>) -> Void

    func resume(with result: Result<LegacyToken, TokenLeaseError>) {
        executor.execute { self.completion(result) }
    }
}
