import HTTP1
import Testing
@testable import Gateway

@Suite("Reading the client's credential")
struct PresentedCredentialTests {
    private func read(_ pairs: [(String, String)]) -> PresentedCredential {
        PresentedCredential(headers: HTTPHeaders(pairs))
    }

    @Test("Basic is read with its scheme word in any case")
    func basicAnyCase() {
        // "alice:s3cr:et" - the password may contain a colon.
        for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
            #expect(read([("Authorization", "\(scheme) YWxpY2U6czNjcjpldA==")])
                    == .basic(login: "alice", password: "s3cr:et"))
        }
    }

    @Test("Bearer and X-API-Key carry an API key; Authorization wins over X-API-Key")
    func apiKeys() {
        #expect(read([("Authorization", "Bearer tbk_a_b")]) == .apiKey("tbk_a_b"))
        #expect(read([("Authorization", "bearer  tbk_a_b ")]) == .apiKey("tbk_a_b"))
        #expect(read([("X-API-Key", " tbk_c_d ")]) == .apiKey("tbk_c_d"))
        #expect(read([("X-API-Key", "tbk_c_d"), ("Authorization", "Bearer tbk_a_b")]) == .apiKey("tbk_a_b"))
    }

    @Test("missing, foreign or malformed credentials are told apart")
    func unreadable() {
        #expect(read([]) == .none)
        #expect(read([("Authorization", "TOKEN id=\"abc\"")]) == .unreadable)
        #expect(read([("Authorization", "Basic !!!")]) == .unreadable)
        #expect(read([("Authorization", "Basic bm9jb2xvbg==")]) == .unreadable)  // "nocolon"
        #expect(read([("Authorization", "Basic")]) == .unreadable)
        #expect(read([("X-API-Key", "  ")]) == .unreadable)
    }

    @Test("Base64 decodes with and without padding and refuses other alphabets")
    func base64() {
        #expect(Base64.decode(ArraySlice("aGk=".utf8)) == Array("hi".utf8))
        #expect(Base64.decode(ArraySlice("aGk".utf8)) == Array("hi".utf8))
        #expect(Base64.decode(ArraySlice("aGVsbG8gd29ybGQ=".utf8)) == Array("hello world".utf8))
        #expect(Base64.decode(ArraySlice("aG-k".utf8)) == nil)
        #expect(Base64.decode(ArraySlice("a=Gk".utf8)) == nil)
    }
}
