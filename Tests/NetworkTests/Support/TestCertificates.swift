import Foundation

/// TLS material generated once per test process with the `openssl` command line tool into a
/// temporary directory: a CA, and two ECDSA P-256 server certificates it signed for `localhost`
/// and 127.0.0.1 (told apart by their common names, for reload tests).
struct TestCertificates: Sendable {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var serverChain: String { directory + "/server-first.pem" }
    var serverKey: String { directory + "/server-first.key" }
    var secondServerChain: String { directory + "/server-second.pem" }
    var secondServerKey: String { directory + "/server-second.key" }
    var clientChain: String { directory + "/client.pem" }
    var clientKey: String { directory + "/client.key" }

    static let shared: TestCertificates = {
        let directory = NSTemporaryDirectory() + "tokenbridge-network-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        certificates.generate()
        return certificates
    }()

    private func generate() {
        openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=TokenBridge Test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
        for (file, name, usage) in [("server-first", "first", "serverAuth"), ("server-second", "second", "serverAuth"),
                                    ("client", "test-client", "clientAuth")] {
            openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "\(file).key", "-out", "\(file).csr", "-subj", "/CN=\(name)"])
            let extensions = directory + "/\(file).ext"
            try? "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=\(usage)\n"
                .write(toFile: extensions, atomically: true, encoding: .utf8)
            openssl(["x509", "-req", "-in", "\(file).csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                     "-CAcreateserial", "-out", "\(file).pem", "-days", "2", "-extfile", extensions])
        }
    }

    private func openssl(_ arguments: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
    }
}
