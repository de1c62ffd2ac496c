import Testing
@testable import Credentials
