import HTTP1
import Testing
@testable import Network

@Suite("Upstream request framing")
struct ClientRequestFramingTests {
    @Test("a GET or HEAD without a body goes out unchanged, without Content-Length")
    func bodylessGet() {
        let get = HTTPRequestHead(method: "GET", target: "/", headers: ["Host": "upstream"])
        #expect(HTTPClientRequestFraming.adjustedHead(get, bodyCount: 0) == nil)
        let head = HTTPRequestHead(method: "HEAD", target: "/", headers: ["Content-Length": "0"])
        let adjusted = HTTPClientRequestFraming.adjustedHead(head, bodyCount: 0)
        #expect(adjusted?.headers.contains(name: "Content-Length") == false)
    }

    @Test("a body gets a Content-Length when the head has none")
    func addsLength() {
        let post = HTTPRequestHead(method: "POST", target: "/x", headers: ["Host": "upstream"])
        let adjusted = HTTPClientRequestFraming.adjustedHead(post, bodyCount: 12)
        #expect(adjusted?.headers.fields == [HTTPField(name: "Host", value: "upstream"),
                                             HTTPField(name: "Content-Length", value: "12")])
    }

    @Test("a POST without a body says Content-Length: 0")
    func emptyPost() {
        let post = HTTPRequestHead(method: "POST", target: "/x")
        #expect(HTTPClientRequestFraming.adjustedHead(post, bodyCount: 0)?.headers.first(name: "Content-Length") == "0")
    }

    @Test("a correct Content-Length is kept as is, a wrong one is replaced")
    func keepsOrFixesLength() {
        let right = HTTPRequestHead(method: "PUT", target: "/", headers: ["content-length": "3"])
        #expect(HTTPClientRequestFraming.adjustedHead(right, bodyCount: 3) == nil)
        let wrong = HTTPRequestHead(method: "PUT", target: "/",
                                    headers: ["Content-Length": "+3", "Content-Length": "3"])
        #expect(HTTPClientRequestFraming.adjustedHead(wrong, bodyCount: 3)?.headers["Content-Length"] == ["3"])
    }

    @Test("Transfer-Encoding is dropped because the body goes out whole")
    func dropsTransferEncoding() {
        let chunked = HTTPRequestHead(method: "POST", target: "/", headers: ["Transfer-Encoding": "chunked"])
        let adjusted = HTTPClientRequestFraming.adjustedHead(chunked, bodyCount: 5)
        #expect(adjusted?.headers.fields == [HTTPField(name: "Content-Length", value: "5")])
    }
}
