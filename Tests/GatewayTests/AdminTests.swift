import Foundation
import Testing
@testable import Gateway

@Suite("Admin listener", .serialized)
struct AdminTests {
    @Test("healthz answers, readyz is ready with a healthy account, unknown paths are 404")
    func endpoints() async throws {
        let harness = try GatewayHarness(upstreamPort: unusedLoopbackPort())
        let health = await harness.admin.send("GET", "/healthz")
        let ready = await harness.admin.send("GET", "/readyz")
        let status = await harness.admin.send("GET", "/status")
        let missing = await harness.admin.send("GET", "/nothing")
        _ = await harness.stop()
        #expect(health.status == 200)
        #expect(ready.status == 200)
        #expect(status.status == 200)
        let account = (status.json?["accounts"] as? [[String: Any]])?.first
        #expect(account?["name"] as? String == "ops")
        #expect(account?["phase"] as? String == "idle")
        #expect(missing.status == 404)
    }
}
