import Foundation
import Testing

@testable import LegacyTopdesk

@Suite("JSON, dates, targets, multipart and JSON Patch")
struct SupportTests {
    @Test("JSON parses and writes back an object with its member order kept")
    func jsonRoundTrip() throws {
        let text = #"{"b":1,"a":[true,false,null],"c":"x\"y\\z\n","d":-1.5,"e":{}}"#
        let value = try JSONParser.parse(Array(text.utf8))
        #expect(String(decoding: value.bytes, as: UTF8.self) == text)
        #expect(value["b"] == .int(1))
        #expect(value["d"] == .double(-1.5))
    }

    @Test("JSON decodes unicode escapes including surrogate pairs")
    func jsonUnicode() throws {
        let value = try JSONParser.parse(Array(#"["\u00fc\ud83d\ude00"]"#.utf8))
        #expect(value.arrayValue?.first?.stringValue == "ü😀")
    }

    @Test("JSON refuses trailing data, bad literals and nesting beyond the limit")
    func jsonRefusals() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array("{} x".utf8)) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array("[tru]".utf8)) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array("{\"a\":01}".utf8)) }
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(deep.utf8)) }
    }

    @Test("a raw JSON string passes bytes that are not UTF-8 through unchanged")
    func rawString() {
        let value = JSONValue.object(["request": .rawString([0x4D, 0xFC, 0x22])])
        #expect(value.bytes == Array(#"{"request":"M"#.utf8) + [0xFC] + Array(#"\""}"#.utf8))
    }

    @Test("dates are written as an old install writes them and read back")
    func dates() throws {
        let date = TopdeskDate(year: 2017, month: 2, day: 16, hour: 9, minute: 12)
        #expect(date.description == "2017-02-16T09:12:00.000+0000")
        #expect(TopdeskDate(parsing: "2017-02-16T09:12:00.000+0000") == date)
        #expect(TopdeskDate(parsing: "2017-02-16T10:12:00.000+0100") == date)
        #expect(TopdeskDate(parsing: "2017-02-16T09:12:00Z") == date)
        #expect(TopdeskDate(parsing: "2017-02-16") == TopdeskDate(year: 2017, month: 2, day: 16))
        #expect(TopdeskDate(parsing: "2017-13-01") == nil)
        #expect(TopdeskDate(parsing: "yesterday") == nil)
        #expect(TopdeskDate(year: 1999, month: 12, day: 31, hour: 23, minute: 59, second: 59).description
            == "1999-12-31T23:59:59.000+0000")
    }

    @Test("a path keeps + as a plus while %20 is a space; a query reads + as a space")
    func targets() {
        let byNumber = RequestTarget("/tas/api/incidents/number/I%201602%20001")
        #expect(byNumber.segments == ["tas", "api", "incidents", "number", "I 1602 001"])
        #expect(RequestTarget("/tas/api/incidents/number/I+1602+001").segments.last == "I+1602+001")
        let list = RequestTarget("/tas/api/incidents/?order_by=creation_date+DESC&x=a%2Bb&flag")
        #expect(list.segments == ["tas", "api", "incidents"])
        #expect(list.value("order_by") == "creation_date DESC")
        #expect(list.value("x") == "a+b")
        #expect(list.value("flag") == "")
    }

    static let multipartBody = Array((
        "--XyZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nA note\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n"
    ).utf8) + [0x00, 0xFF, 0x0D, 0x0A, 0x41] + Array("\r\n--XyZ--\r\n".utf8)

    @Test("multipart bodies split into named parts with binary content kept")
    func multipart() {
        #expect(MultipartParser.boundary(fromContentType: "multipart/form-data; boundary=\"XyZ\"") == "XyZ")
        #expect(MultipartParser.boundary(fromContentType: "application/json") == nil)
        let parts = MultipartParser.parts(of: SupportTests.multipartBody, boundary: "XyZ")
        #expect(parts.map(\.name) == ["description", "file"])
        #expect(parts[0].text == "A note")
        #expect(parts[1].fileName == "a.bin")
        #expect(parts[1].body == [0x00, 0xFF, 0x0D, 0x0A, 0x41])
    }

    @Test("a multipart body read with the wrong boundary yields no parts")
    func multipartWrongBoundary() {
        #expect(MultipartParser.parts(of: SupportTests.multipartBody, boundary: "Other").isEmpty)
    }

    /// What the `topdesk` Python library (0.0.17) sends for `upload_incident_attachment(n,
    /// ("note.txt", "hello"), params={"description": "A note"})`: LF line breaks, base64 content.
    static let topdeskLibraryBody = Array((
        "--BOUNDARY\nContent-Disposition: form-data; name=\"description\"\n\nA note\n"
            + "--BOUNDARY\nContent-Disposition: form-data; name=\"file\"; filename=\"note.txt\"\n"
            + "Content-Type: application/plain;charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            + "aGVsbG8=\n--BOUNDARY--").utf8)

    @Test("multipart bodies with bare LF line breaks and a base64 transfer encoding are read")
    func multipartFromTheTopdeskLibrary() {
        let parts = MultipartParser.parts(of: SupportTests.topdeskLibraryBody, boundary: "BOUNDARY")
        #expect(parts.map(\.name) == ["description", "file"])
        #expect(parts.first?.text == "A note")
        #expect(parts.last?.fileName == "note.txt")
        #expect(parts.last?.contentType == "application/plain;charset=utf-8")
        #expect(parts.last?.text == "hello")
        // Without the transfer encoding the bytes are kept as sent, line breaks inside included.
        let plain = Array("--B\nContent-Disposition: form-data; name=\"file\"\n\naGVsbG8=\r\nx\n--B--\n".utf8)
        #expect(MultipartParser.parts(of: plain, boundary: "B").first?.text == "aGVsbG8=\r\nx")
        // A boundary that only appears mid-line is no delimiter.
        #expect(MultipartParser.parts(of: Array("x--B\nContent-Disposition: form-data; name=\"f\"\n\ny\n--B--".utf8),
                                      boundary: "B").isEmpty)
    }

    @Test("JSON Patch applies add, remove, replace, move, copy and test in order")
    func jsonPatch() throws {
        let document = try JSONParser.parse(Array(#"{"a":1,"b":{"c":[1,2]}}"#.utf8))
        let patch = try JSONParser.parse(Array(#"""
            [{"op":"test","path":"/a","value":1},{"op":"replace","path":"/a","value":"x"},
             {"op":"add","path":"/b/c/-","value":3},{"op":"add","path":"/b/c/0","value":0},
             {"op":"copy","from":"/a","path":"/d"},{"op":"move","from":"/b/c","path":"/e"},
             {"op":"remove","path":"/b"},{"op":"add","path":"/f~1g","value":null}]
            """#.utf8))
        let result = try JSONPatch.apply(patch, to: document)
        #expect(String(decoding: result.bytes, as: UTF8.self) == #"{"a":"x","d":"x","e":[0,1,2,3],"f/g":null}"#)
    }

    @Test("a failing JSON Patch test or a missing path refuses the whole patch")
    func jsonPatchFailures() throws {
        let document = try JSONParser.parse(Array(#"{"a":1}"#.utf8))
        let failingTest = try JSONParser.parse(Array(#"[{"op":"test","path":"/a","value":2}]"#.utf8))
        #expect(throws: JSONPatchError.self) { try JSONPatch.apply(failingTest, to: document) }
        let missing = try JSONParser.parse(Array(#"[{"op":"replace","path":"/zz","value":2}]"#.utf8))
        #expect(throws: JSONPatchError.self) { try JSONPatch.apply(missing, to: document) }
        let notArray = try JSONParser.parse(Array(#"{"op":"add"}"#.utf8))
        #expect(throws: JSONPatchError.self) { try JSONPatch.apply(notArray, to: document) }
    }
}
