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

    @Test("Bearer and X-API-Key carry an API key")
    func apiKeys() {
        #expect(read([("Authorization", "Bearer tbk_a_b")]) == .apiKey("tbk_a_b"))
        #expect(read([("Authorization", "bearer  tbk_a_b ")]) == .apiKey("tbk_a_b"))
        #expect(read([("X-API-Key", " tbk_c_d ")]) == .apiKey("tbk_c_d"))
        #expect(read([("x-api-key", "tbk_c_d"), ("Accept", "*/*")]) == .apiKey("tbk_c_d"))
    }

    @Test("Two credential fields are refused, whichever they are and in whatever order")
    func ambiguous() {
        #expect(read([("X-API-Key", "tbk_c_d"), ("Authorization", "Bearer tbk_a_b")]) == .ambiguous)
        #expect(read([("Authorization", "Bearer tbk_a_b"), ("X-API-Key", "tbk_c_d")]) == .ambiguous)
        #expect(read([("Authorization", "Bearer tbk_a_b"), ("authorization", "Bearer tbk_a_b")]) == .ambiguous)
        #expect(read([("X-API-Key", "tbk_c_d"), ("X-Api-Key", "tbk_e_f")]) == .ambiguous)
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
