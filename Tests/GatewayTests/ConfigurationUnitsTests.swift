import Testing
@testable import Gateway

@Suite("Configuration units and URLs")
struct ConfigurationUnitsTests {
    @Test("Durations need a unit and may combine several",
          arguments: [("500ms", Duration.milliseconds(500)), ("30s", .seconds(30)), ("5m", .seconds(300)),
                      ("8h", .seconds(28_800)), ("1h30m", .seconds(5400)), ("1.5s", .milliseconds(1500)),
                      ("2d", .seconds(172_800)), ("0s", .zero)])
    func durations(_ text: String, _ expected: Duration) {
        #expect(ConfigurationUnits.parseDuration(text) == expected)
    }

    @Test("Malformed durations are refused", arguments: ["", "30", "s", "5 s", "5sec", "-1s", "1h-5m", "1e3s", "..s"])
    func badDurations(_ text: String) {
        #expect(ConfigurationUnits.parseDuration(text) == nil)
    }

    @Test("Sizes accept bytes and binary or decimal units",
          arguments: [("0", 0), ("512", 512), ("32KiB", 32_768), ("16MiB", 16_777_216), ("1 GiB", 1_073_741_824),
                      ("1.5KiB", 1536), ("2MB", 2_000_000), ("10B", 10)])
    func sizes(_ text: String, _ expected: Int) {
        #expect(ConfigurationUnits.parseByteSize(text) == expected)
    }

    @Test("Malformed sizes are refused", arguments: ["", "MiB", "16mib", "1.3B", "-1", "5 TiB", "lots"])
    func badSizes(_ text: String) {
        #expect(ConfigurationUnits.parseByteSize(text) == nil)
    }

    @Test("Durations are formatted in their largest whole unit")
    func formatting() {
        #expect(ConfigurationUnits.format(.seconds(28_800)) == "8h")
        #expect(ConfigurationUnits.format(.milliseconds(1500)) == "1500ms")
        #expect(ConfigurationUnits.format(.seconds(90)) == "90s")
    }

    @Test("Upstream URLs: scheme, host, port and prefix",
          arguments: [
            ("https://td.example.com", "https", "td.example.com", 443, "", "td.example.com"),
            ("http://TD.example.com:8080/", "http", "td.example.com", 8080, "", "td.example.com:8080"),
            ("https://td.example.com/topdesk//", "https", "td.example.com", 443, "/topdesk", "td.example.com"),
            ("https://10.0.0.1:443/a/b", "https", "10.0.0.1", 443, "/a/b", "10.0.0.1"),
            ("http://[::1]:9000/x%20y", "http", "::1", 9000, "/x%20y", "[::1]:9000"),
          ])
    func upstreamURLs(_ text: String, _ scheme: String, _ host: String, _ port: Int, _ prefix: String,
                      _ authority: String) throws {
        let url = try UpstreamURL.parse(text).get()
        #expect(url.scheme == scheme)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.pathPrefix == prefix)
        #expect(url.authority == authority)
    }

    @Test("Invalid upstream URLs say why",
          arguments: ["td.example.com", "ftp://x", "https://", "https://user:pw@td", "https://td?x=1",
                      "https://td:0", "https://td:abc", "https://[::1", "https://td/a b", "https://td/../x",
                      "https://-td"])
    func invalidUpstreamURLs(_ text: String) {
        #expect(throws: UpstreamURL.URLProblem.self) { try UpstreamURL.parse(text).get() }
    }
}
