import Network

/// A request waiting for a login is resumed on the loop that owns its connection.
extension EventLoop: CallbackExecutor {}
