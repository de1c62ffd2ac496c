import Testing
@testable import TokenPool
