import Testing
@testable import LegacyTopdesk
