import AccessCore
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Simulation
import Testing

/// `config/mosquitto-site.conf` and the dynamic-security rules `accessctl broker dynsec` writes,
/// loaded by a real mosquitto with only paths and port rewritten: the gateway works through them,
/// and each device is confined to its own topics, subscriptions included.
@Suite(.serialized) struct SiteBrokerTests {
    /// Starts mosquitto on the shipped site configuration: `/etc/mosquitto/` becomes a folder
    /// holding the test PKI under the shipped file names, and the listener a free loopback port.
    /// The rules for the harness's site: its three locks and poles, gateway gw-1 in a shared group.
    static func siteRules() -> SiteBrokerACL {
        SiteBrokerACL(
            topics: SiteTopics(siteID: "site-1"), lockIDs: ["lock-1", "lock-2", "lock-3"],
            poleIDs: ["pole-1", "pole-2", "pole-3"], gatewayIDs: ["gw-1"], sharedGroup: "access-gateways",
            operators: ["operator"], bookingBackend: "booking-backend")
    }

    /// Starts mosquitto on the shipped site configuration: `/etc/mosquitto/` becomes a folder
    /// holding the test PKI under the shipped file names, `/var/lib/mosquitto/` one holding the
    /// site's rules, and the listener a free loopback port.
    static func startSiteBroker(_ pki: TestCertificates, rules: SiteBrokerACL = siteRules()) throws
        -> MosquittoBroker
    {
        let configuration = try String(
            contentsOfFile: PackagePaths.root + "/config/mosquitto-site.conf", encoding: .utf8)
        return try MosquittoBroker.start { port, directory in
            let etc = directory.appendingPathComponent("etc").path
            let state = directory.appendingPathComponent("var-lib").path
            try FileManager.default.createDirectory(atPath: etc + "/certs", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            for (from, to) in [
                (pki.caCertificate, "site-ca.crt"), (pki.serverCertificate, "broker.crt"),
                (pki.serverKey, "broker.key"),
            ] {
                try FileManager.default.copyItem(atPath: from, toPath: etc + "/certs/" + to)
            }
            // The site's rules, and the test's own observer (not shipped): it reads the whole site
            // so the test can see every decision and command.
            var rules = rules
            rules.clients.append(
                .init(
                    username: "test-observer",
                    role: .init(
                        name: "test-observer",
                        grants: [
                            .init(kind: .publishClientReceive, topic: "access/site-1/#"),
                            .init(kind: .subscribePattern, topic: "access/site-1/#"),
                            .init(kind: .publishClientSend, topic: "access/site-1/bookings"),
                        ])))
            try rules.dynamicSecurityJSON.write(
                toFile: state + "/access-gateway-dynsec.json", atomically: true, encoding: .utf8)
            var lines = configuration.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let listener = try #require(lines.firstIndex(of: "listener 8883"), "the example's listener line moved")
            lines[listener] = "listener \(port) 127.0.0.1"
            return lines.joined(separator: "\n").replacingOccurrences(of: "/etc/mosquitto/", with: etc + "/")
                .replacingOccurrences(of: "/var/lib/mosquitto/", with: state + "/")
        }
    }

    /// Subscribing to `filter` is refused with SUBACK 0x87 (not authorized).
    static func expectSubscriptionRefused(_ client: MQTTClient, _ filter: String, _ who: String) async {
        let error = await #expect(throws: MQTTError.self, "\(who) subscribed to \(filter)") {
            try await client.subscribe(filter)
        }
        guard case .subscriptionRefused(_, let code, _)? = error else {
            Issue.record("\(who) subscribing to \(filter): \(String(describing: error))")
            return
        }
        #expect(code == 0x87)
    }

    /// The gateway gw-1 with its two certificates, in the shared group, and the test's observer.
    static func gatewayHarness(_ broker: MosquittoBroker, _ pki: TestCertificates) async throws -> GatewayHarness {
        _ = try pki.issueClientCertificate(name: "gateway", commonName: "access-gateway-gw-1")
        // The booking feed's own connection needs its own name: the broker takes client ids from
        // certificates, and two connections with one id would take each other's session over.
        _ = try pki.issueClientCertificate(name: "gateway-bookings", commonName: "access-gateway-gw-1-bookings")
        let brokerYAML = """
            broker:
              host: localhost
              port: \(broker.port)
              sharedGroup: access-gateways
              tls:
                caFile: \(pki.caCertificate)
                certFile: gateway.crt
                keyFile: gateway.key
              bookings:
                certFile: gateway-bookings.crt
                keyFile: gateway-bookings.key
            """
        return try await GatewayHarness(
            broker: broker, brokerYAML: brokerYAML,
            device: try Self.client(broker, pki, commonName: "test-observer"))
    }

    /// A client with its own certificate (Common Name `commonName`), over TLS to the site broker.
    static func client(
        _ broker: MosquittoBroker, _ pki: TestCertificates, commonName: String, fileName: String? = nil
    ) throws -> MQTTClient.Configuration {
        let (certificate, key) = try pki.issueClientCertificate(name: fileName ?? commonName, commonName: commonName)
        // The client id sent is deliberately someone else's: the broker replaces it with the name.
        var configuration = broker.clientConfiguration(clientID: "lock-2")
        configuration.host = "localhost"
        configuration.tls = MQTTClient.TLS(
            caFile: pki.caCertificate, certificateFile: certificate, privateKeyFile: key)
        return configuration
    }

    /// The booking reaches the gateway a moment after the backend's PUBACK: asks until granted.
    static func askUntilGranted(
        _ lock: MQTTClient, lockID: String, inbox: MessageCollector, token: String
    ) async throws -> Bool {
        for attempt in 1...10 {
            let requestID = "r-\(lockID)-\(attempt)"
            try await lock.publishAcknowledged(
                MQTTMessage(
                    topic: "access/site-1/locks/\(lockID)/request",
                    payload: TestSite.requestPayload(requestID: requestID, credential: .token(token))))
            let decision = await inbox.first(timeout: .seconds(2)) {
                $0.topic.hasSuffix("/decision") && $0.payloadString?.contains(requestID) == true
            }
            if decision?.payloadString?.contains("\"granted\":true") == true { return true }
        }
        return false
    }

    @Test func theGatewayServesALockThroughTheSiteBrokerAndEachLockIsConfinedToItsOwnTopics() async throws {
        let pki = try TestCertificates.make()
        defer { pki.remove() }
        let broker = try Self.startSiteBroker(pki)
        let harness = try await Self.gatewayHarness(broker, pki)
        // As the unit gives them (LoadCredential=): relative names in $CREDENTIALS_DIRECTORY.
        try await harness.startGateway(environment: ["CREDENTIALS_DIRECTORY": pki.directory.path])
        // The rules the broker runs on are what accessctl writes from the gateway's configuration.
        let generated = try await ExternalTool.captureDetached(
            try OperatorTests.accessctl(), ["broker", "dynsec", "--config", harness.configPath])
        #expect(generated.status == 0, "\(generated.standardError)")
        #expect(generated.standardOutput == Self.siteRules().dynamicSecurityJSON)

        // The booking backend may publish bookings; the gateway takes them.
        let backend = try MQTTClient(
            configuration: try Self.client(broker, pki, commonName: "booking-backend"),
            logger: TestLogging.logger("mqtt"))
        try await backend.connect()
        let booking = GatewayEndToEndTests.activeBooking(space: "room-1")
        try await backend.publishAcknowledged(
            MQTTMessage(topic: "access/site-1/bookings", payload: BookingMessage.upsert(booking).payload))

        // lock-1, with its own certificate, asks for its door and gets the decision and the command.
        let lock1 = try MQTTClient(
            configuration: try Self.client(broker, pki, commonName: "lock-1"), logger: TestLogging.logger("mqtt"))
        try await lock1.connect()
        let lock1Inbox = MessageCollector(lock1)
        try await lock1.subscribe("access/site-1/locks/lock-1/#")
        let token = harness.site.token(for: booking, jti: "t-site")
        let granted = try await Self.askUntilGranted(lock1, lockID: "lock-1", inbox: lock1Inbox, token: token)
        #expect(granted, "lock-1 got no grant; gateway log:\n\(harness.log())\nbroker log:\n\(broker.log())")
        #expect(await lock1Inbox.first(on: "access/site-1/locks/lock-1/command") != nil)

        // lock-1 may not speak for lock-2, read lock-2's commands, send commands or bookings.
        for topic in [
            "access/site-1/locks/lock-2/request", "access/site-1/locks/lock-2/status",
            "access/site-1/locks/lock-1/command", "access/site-1/locks/lock-2/command",
            "access/site-1/locks/lock-1/decision", "access/site-1/bookings", "access/site-1/alarms",
        ] {
            let error = await #expect(throws: MQTTError.self, "lock-1 published to \(topic)") {
                try await lock1.publishAcknowledged(MQTTMessage(topic: topic, payload: "{}"))
            }
            if case .publishRefused(_, let code, _)? = error { #expect(code == 0x87) }
        }
        // Nor subscribe outside its branch: the broker refuses the subscription itself (SUBACK
        // 0x87), a shared one included, which would otherwise hand lock-1 a share of every
        // lock's requests. A certificate named "+" (no such client in the rules) gets nothing.
        for filter in [
            "access/site-1/locks/lock-2/#", "access/site-1/locks/+/command", "access/site-1/#",
            "$share/access-gateways/access/site-1/locks/+/request", "$share/g/access/site-1/locks/lock-1/#",
        ] {
            await Self.expectSubscriptionRefused(lock1, filter, "lock-1")
        }
        let wildcard = try MQTTClient(
            configuration: try Self.client(broker, pki, commonName: "\\+", fileName: "plus"),
            logger: TestLogging.logger("mqtt"))
        try await wildcard.connect()
        let wildcardInbox = MessageCollector(wildcard)
        await Self.expectSubscriptionRefused(wildcard, "access/site-1/locks/+/command", "a client named +")
        await #expect(throws: MQTTError.self, "a client named + spoke for lock-2") {
            try await wildcard.publishAcknowledged(
                MQTTMessage(topic: "access/site-1/locks/lock-2/request", payload: "{}"))
        }

        let lock2 = try MQTTClient(
            configuration: try Self.client(broker, pki, commonName: "lock-2"), logger: TestLogging.logger("mqtt"))
        try await lock2.connect()
        let lock2Inbox = MessageCollector(lock2)
        try await lock2.subscribe("access/site-1/locks/lock-2/#")
        let booking2 = GatewayEndToEndTests.activeBooking(id: "b-2", space: "room-2")
        try await backend.publishAcknowledged(
            MQTTMessage(topic: "access/site-1/bookings", payload: BookingMessage.upsert(booking2).payload))
        let token2 = harness.site.token(for: booking2, jti: "t-2")
        #expect(try await Self.askUntilGranted(lock2, lockID: "lock-2", inbox: lock2Inbox, token: token2))
        let lock2Command = await lock2Inbox.first(on: "access/site-1/locks/lock-2/command")
        #expect(lock2Command != nil, "lock-2 got no command; gateway log:\n\(harness.log())")
        // The test's observer (read-only everywhere) saw it too, so it has been delivered by now.
        #expect(await harness.inbox.first(on: "access/site-1/locks/lock-2/command") != nil)
        try await Task.sleep(for: .milliseconds(300))
        #expect(lock1Inbox.messages.map(\.topic).filter { $0.contains("/lock-2/") } == [])
        #expect(wildcardInbox.messages.map(\.topic) == [])
        // Every one of lock-2's requests is answered: no device holds a share of them.
        for index in 1...10 {
            try await lock2.publishAcknowledged(
                MQTTMessage(
                    topic: "access/site-1/locks/lock-2/request",
                    payload: AccessRequest(requestID: "r-share-\(index)", credential: .pin("12345678")).payload))
        }
        let answered = {
            lock2Inbox.messages.filter {
                $0.topic.hasSuffix("/decision") && $0.payloadString?.contains("r-share-") == true
            }
            .count
        }
        #expect(await eventually { answered() == 10 }, "\(answered()) of 10 answered")

        // The client id each device sent ("lock-2") was replaced by its certificate's name, so
        // none of them took over another's session: all are still connected.
        #expect(lock1.isConnected && lock2.isConnected && backend.isConnected && harness.device.isConnected)

        // An operator's remote unlock through the site broker, with the operator's own certificate.
        let (operatorCertificate, operatorKey) = try pki.issueClientCertificate(
            name: "operator-cli", commonName: "operator")
        let unlock = try await ExternalTool.captureDetached(
            try OperatorTests.accessctl(),
            [
                "unlock", "lock-1", "--reason", "site broker test", "--config", harness.configPath,
                "--tls-cert", operatorCertificate, "--tls-key", operatorKey,
            ])
        #expect(unlock.status == 0, "\(unlock.standardError)\n\(harness.log().suffix(2000))")
        // lock-1 gets a second command, the operator's unlock (each once per matching subscription).
        let commands = {
            Set(lock1Inbox.messages.filter { $0.topic == "access/site-1/locks/lock-1/command" }.map(\.payload))
        }
        #expect(await eventually { commands().count == 2 }, "\(commands().count)")

        // The operator role: least privilege. It sees alarms and statuses, never requests (PINs and
        // tokens in transit), decisions or commands, and it may not publish a request.
        let operatorClient = try MQTTClient(
            configuration: try Self.client(broker, pki, commonName: "operator"), logger: TestLogging.logger("mqtt"))
        try await operatorClient.connect()
        let operatorInbox = MessageCollector(operatorClient)
        for filter in ["access/site-1/#", "access/site-1/locks/+/request", "access/site-1/locks/lock-1/#"] {
            await Self.expectSubscriptionRefused(operatorClient, filter, "the operator")
        }
        for filter in [
            "access/site-1/locks/+/status", "access/site-1/locks/+/event", "access/site-1/alarms",
            "access/site-1/gateway/+/status", "access/site-1/gateway/+/audit", "access/site-1/poles/+/telemetry",
        ] {
            try await operatorClient.subscribe(filter)
        }
        await #expect(throws: MQTTError.self, "the operator published a request") {
            try await operatorClient.publishAcknowledged(
                MQTTMessage(topic: "access/site-1/locks/lock-1/request", payload: "{}"))
        }
        let pinRequest = AccessRequest(requestID: "r-pin", credential: .pin("12345678")).payload
        try await lock1.publishAcknowledged(
            MQTTMessage(topic: "access/site-1/locks/lock-1/request", payload: pinRequest))
        try await lock1.publishAcknowledged(
            MQTTMessage(topic: "access/site-1/locks/lock-1/status", payload: #"{"online":true,"ts":1}"#))
        #expect(await operatorInbox.first(on: "access/site-1/locks/lock-1/status") != nil)
        #expect(await harness.inbox.first(on: "access/site-1/locks/lock-1/decision") != nil)
        try await Task.sleep(for: .milliseconds(300))
        let operatorSaw = Set(operatorInbox.messages.map(\.topic))
        #expect(
            operatorSaw.allSatisfy {
                !$0.hasSuffix("/request") && !$0.hasSuffix("/decision") && !$0.hasSuffix("/command")
            },
            "\(operatorSaw)")
        await operatorClient.shutdown()

        // The lock simulator commissions a real site broker: TLS, and lock-3's own certificate.
        let (lock3Certificate, lock3Key) = try pki.issueClientCertificate(name: "lock-3", commonName: "lock-3")
        let simulated = try await ExternalTool.captureDetached(
            try SimulatorTests.executable("lock-sim"),
            [
                "--broker", "localhost:\(broker.port)", "--tls-ca", pki.caCertificate, "--tls-cert", lock3Certificate,
                "--tls-key", lock3Key, "--site", "site-1", "--site-key-file", harness.directory + "/site.key",
                "--locks", "lock-3@room-3",
            ], input: "present lock-3 pin 12345678\nquit\n")
        #expect(
            simulated.standardOutput.contains("invalid_credential"),
            "\(simulated.standardOutput)\(simulated.standardError)")

        for client in [lock1, lock2, backend, wildcard] { await client.shutdown() }
        await harness.stop()
    }

    /// Rules written before the site shared its requests (no `$share` grant for the gateway):
    /// the broker refuses the gateway's request subscription, and the gateway says so instead
    /// of reporting itself online while no lock is heard.
    @Test func aGatewayWhoseRequestSubscriptionIsRefusedIsNotReadyAndSaysWhy() async throws {
        let pki = try TestCertificates.make()
        defer { pki.remove() }
        let rules = SiteBrokerACL(
            topics: SiteTopics(siteID: "site-1"), lockIDs: ["lock-1", "lock-2", "lock-3"],
            poleIDs: ["pole-1", "pole-2", "pole-3"], gatewayIDs: ["gw-1"], sharedGroup: nil,
            operators: ["operator"], bookingBackend: "booking-backend")
        let broker = try Self.startSiteBroker(pki, rules: rules)
        let harness = try await Self.gatewayHarness(broker, pki)
        let since = harness.inbox.recorded.count
        _ = try harness.launchGateway(environment: ["CREDENTIALS_DIRECTORY": pki.directory.path])
        let refused = await eventually(timeout: .seconds(15)) {
            (try? await harness.http("/healthz").body.contains("request subscription refused")) == true
        }
        let health = try await harness.http("/healthz")
        #expect(refused, "\(health.body)\n\(harness.log().suffix(3000))")
        #expect(health.status == 503)
        #expect(harness.log().contains("request subscription refused"))
        let online = harness.inbox.recorded.dropFirst(since).contains {
            $0.topic == "access/site-1/gateway/gw-1/status" && $0.payloadString?.contains("\"online\":true") == true
        }
        #expect(!online, "the gateway said it was online while no lock was heard")
        await harness.stop()
    }
}
