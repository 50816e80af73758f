import Foundation

/// A throwaway PKI made with the openssl command for TLS tests: a CA, a server certificate for
/// 127.0.0.1/localhost, a client certificate, an expired server certificate, and a second,
/// unrelated CA (the "wrong CA").
public struct TestCertificates: Sendable {
    public let directory: URL
    public var caCertificate: String { path("ca.crt") }
    public var serverCertificate: String { path("server.crt") }
    public var serverKey: String { path("server.key") }
    public var expiredServerCertificate: String { path("expired-server.crt") }
    public var expiredServerKey: String { path("expired-server.key") }
    public var clientCertificate: String { path("client.crt") }
    public var clientKey: String { path("client.key") }
    public var expiredClientCertificate: String { path("expired-client.crt") }
    public var expiredClientKey: String { path("expired-client.key") }
    public var otherCACertificate: String { path("other-ca.crt") }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    public static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("test-pki-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pki = TestCertificates(directory: directory)
        try pki.generate()
        return pki
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func generate() throws {
        let caConfig = """
            [ ca ]
            default_ca = test_ca
            [ test_ca ]
            database = index.txt
            new_certs_dir = .
            serial = serial
            default_md = sha256
            policy = any_name
            copy_extensions = none
            unique_subject = no
            [ any_name ]
            commonName = supplied
            [ server ]
            subjectAltName = IP:127.0.0.1,DNS:localhost
            extendedKeyUsage = serverAuth
            [ client ]
            extendedKeyUsage = clientAuth

            """
        try caConfig.write(to: directory.appendingPathComponent("ca.cnf"), atomically: true, encoding: .utf8)
        try "".write(to: directory.appendingPathComponent("index.txt"), atomically: true, encoding: .utf8)
        try "01\n".write(to: directory.appendingPathComponent("serial"), atomically: true, encoding: .utf8)
        for (name, subject) in [("ca", "/CN=Access Gateway Test CA"), ("other-ca", "/CN=Unrelated CA")] {
            try openssl([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).crt",
                "-days", "30", "-subj", subject,
            ])
        }
        let now = Date()
        let valid = (now.addingTimeInterval(-3600), now.addingTimeInterval(30 * 86400))
        let expired = (now.addingTimeInterval(-10 * 86400), now.addingTimeInterval(-86400))
        try issue("server", subject: "/CN=localhost", extensions: "server", window: valid)
        try issue("expired-server", subject: "/CN=localhost", extensions: "server", window: expired)
        try issue("client", subject: "/CN=lock-1", extensions: "client", window: valid)
        try issue("expired-client", subject: "/CN=lock-2", extensions: "client", window: expired)
    }

    /// Issues another client certificate from the test CA with the given Common Name; `name`
    /// names its files (`name.crt`, `name.key`) in the PKI folder.
    public func issueClientCertificate(name: String, commonName: String) throws -> (certificate: String, key: String) {
        let now = Date()
        try issue(
            name, subject: "/CN=\(commonName)", extensions: "client",
            window: (now.addingTimeInterval(-3600), now.addingTimeInterval(30 * 86400)))
        return (path("\(name).crt"), path("\(name).key"))
    }

    private func issue(_ name: String, subject: String, extensions: String, window: (Date, Date)) throws {
        try openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject,
        ])
        try openssl([
            "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", "\(name).csr",
            "-out", "\(name).crt", "-extensions", extensions, "-notext",
            "-startdate", Self.asn1Time(window.0), "-enddate", Self.asn1Time(window.1),
        ])
    }

    private func openssl(_ arguments: [String]) throws {
        try ExternalTool.run("openssl", arguments, in: directory)
    }

    static func asn1Time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        return formatter.string(from: date)
    }
}
