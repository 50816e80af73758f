import Foundation
import MQTT
import MQTTTesting
import Testing

/// TLS against a real mosquitto with certificates made for the test run.
@Suite struct TLSTests {
    static func tlsConfiguration(
        _ broker: MosquittoBroker, _ pki: TestCertificates, clientID: String,
        caFile: String? = nil, certificate: String? = nil, key: String? = nil
    ) throws -> MQTTClient.Configuration {
        var configuration = broker.clientConfiguration(clientID: clientID)
        configuration.port = try #require(broker.tlsPort)
        configuration.tls = MQTTClient.TLS(
            caFile: caFile ?? pki.caCertificate,
            certificateFile: certificate ?? pki.clientCertificate,
            privateKeyFile: key ?? pki.clientKey)
        return configuration
    }

    static func withTLSBroker(
        serverCertificate: (TestCertificates) -> (String, String) = { ($0.serverCertificate, $0.serverKey) },
        _ body: (MosquittoBroker, TestCertificates) async throws -> Void
    ) async throws {
        let pki = try TestCertificates.make()
        defer { pki.remove() }
        let (certificate, key) = serverCertificate(pki)
        let listener = MosquittoBroker.TLSListener(
            caFile: pki.caCertificate, certificateFile: certificate, keyFile: key)
        try await withMosquittoBroker(.init(tls: listener)) { broker in try await body(broker, pki) }
    }

    @Test func connectsWithCAAndClientCertificate() async throws {
        try await Self.withTLSBroker { broker, pki in
            let client = try MQTTClient(
                configuration: Self.tlsConfiguration(broker, pki, clientID: "tls-ok"),
                logger: TestLogging.logger("mqtt"))
            try await client.connect()
            let inbox = MessageCollector(client)
            try await client.subscribe("secure/#")
            try await client.publishAcknowledged(MQTTMessage(topic: "secure/ping", payload: "over TLS"))
            #expect(await inbox.first(on: "secure/ping")?.payloadString == "over TLS")
            await client.shutdown()
        }
    }

    @Test func wrongCAIsRefusedWithTheReason() async throws {
        try await Self.withTLSBroker { broker, pki in
            let client = try MQTTClient(
                configuration: Self.tlsConfiguration(broker, pki, clientID: "tls-ca", caFile: pki.otherCACertificate),
                logger: TestLogging.logger("mqtt"))
            let error = await #expect(throws: MQTTError.self) { try await client.connect() }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("certificate verify failed"), "\(text)")
        }
    }

    @Test func expiredServerCertificateIsRefusedWithTheReason() async throws {
        try await Self.withTLSBroker(serverCertificate: { ($0.expiredServerCertificate, $0.expiredServerKey) }) {
            broker, pki in
            let client = try MQTTClient(
                configuration: Self.tlsConfiguration(broker, pki, clientID: "tls-exp"),
                logger: TestLogging.logger("mqtt"))
            let error = await #expect(throws: MQTTError.self) { try await client.connect() }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("certificate verify failed") || text.contains("expired"), "\(text)")
        }
    }

    @Test func expiredClientCertificateIsRefusedByTheBroker() async throws {
        try await Self.withTLSBroker { broker, pki in
            let client = try MQTTClient(
                configuration: Self.tlsConfiguration(
                    broker, pki, clientID: "tls-client-exp", certificate: pki.expiredClientCertificate,
                    key: pki.expiredClientKey), logger: TestLogging.logger("mqtt"))
            let error = await #expect(throws: MQTTError.self) { try await client.connect() }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("expired") || text.contains("certificate"), "\(text)")
            #expect(!client.isConnected)
        }
    }

    /// The client stops listening to libmosquitto's log once the broker accepts (it costs a
    /// formatted line per packet), and must listen again for each reconnect: a broker that comes
    /// back with a certificate the client refuses is reported with the TLS reason, not a bare code.
    @Test func aReconnectRefusedOverTLSCarriesTheReason() async throws {
        try await Self.withTLSBroker { broker, pki in
            let client = try MQTTClient(
                configuration: Self.tlsConfiguration(broker, pki, clientID: "tls-again"),
                logger: TestLogging.logger("mqtt"))
            try await client.connect()
            let states = StateRecorder(client)
            // The broker comes back with an expired certificate, under the same file names.
            for (expired, current) in [
                (pki.expiredServerCertificate, pki.serverCertificate), (pki.expiredServerKey, pki.serverKey),
            ] {
                try Data(contentsOf: URL(fileURLWithPath: expired)).write(to: URL(fileURLWithPath: current))
            }
            broker.kill()
            try broker.restart()
            let refusedWithReason = await eventually(timeout: .seconds(10)) {
                states.seen.contains { state in
                    guard case .disconnected(let reason, _) = state else { return false }
                    let text = "\(reason)"
                    return text.contains("certificate verify failed") || text.contains("expired")
                }
            }
            #expect(refusedWithReason, "\(states.seen)")
            #expect(!client.isConnected)
            await client.shutdown()
        }
    }

    @Test func missingCAFileIsAClearError() async throws {
        try await Self.withTLSBroker { broker, pki in
            #expect(throws: MQTTError.self) {
                try MQTTClient(
                    configuration: Self.tlsConfiguration(
                        broker, pki, clientID: "tls-none", caFile: "/nonexistent/ca.crt"),
                    logger: TestLogging.logger("mqtt"))
            }
        }
    }
}
