import AccessConfiguration
import AccessCore
import AccessProtocol
import AccessStore
import ArgumentParser
import Foundation
import Logging
import MQTT

struct Unlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unlock a door remotely through the running gateway, audited with your name and reason.",
        discussion: """
            Reads the gateway's configuration for the broker, the site and the siteKey file, signs the request
            with the operator key derived from the siteKey, and waits for the gateway's answer. The gateway
            audits the unlock (operator and note) before it sends the lock its command.
            Exit status 0 when the gateway unlocked, 1 when it refused or did not answer.
            """)

    @Option(help: "The gateway's configuration file.") var config = "/etc/access-gateway/gateway.yaml"
    @Option(help: "Why (recorded in the audit log).") var reason: String
    @Option(name: .customLong("operator"), help: "Who (default: $SUDO_USER, then $USER).") var operatorName: String?
    @Option(help: "Seconds to wait for the gateway.") var timeout = 10.0
    @Flag(help: "Print the gateway's answer as JSON instead of a sentence.") var json = false
    @Option(
        help: ArgumentHelp(
            "Your own client certificate for the broker, instead of the gateway's.",
            discussion: """
                A site broker that names each client by its certificate (config/mosquitto-site.conf) would \
                take the gateway's session over if accessctl used the gateway's certificate.
                """))
    var tlsCert: String?
    @Option(help: "The key of --tls-cert.") var tlsKey: String?
    @Argument(help: "The lock.") var lock: String

    func validate() throws {
        guard Identifier.isValid(lock) else { throw ValidationError("\"\(lock)\" is not a lock id") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty, reason.utf8.count <= OperatorUnlock.maximumNoteBytes
        else {
            throw ValidationError("--reason must say why, in at most \(OperatorUnlock.maximumNoteBytes) bytes")
        }
        if let operatorName, !Identifier.isValid(operatorName) {
            throw ValidationError("--operator must follow the identifier rule")
        }
        guard timeout > 0, timeout <= 300 else { throw ValidationError("--timeout must be in 0...300 seconds") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .error
            return handler
        }
        let environment = ProcessInfo.processInfo.environment
        let configuration: GatewayConfiguration
        do {
            configuration = try await GatewayConfiguration.load(path: config, environment: environment)
        } catch {
            throw Failure("\(config): \(error)")
        }
        guard configuration.site.locks[lock] != nil else {
            throw Failure("lock \(lock) is not in the site's inventory")
        }
        let siteKey = try SecretKeyFile.load(path: configuration.siteKeyFile)
        let who = operatorName ?? OperatorName.fromEnvironment(environment)
        let requestID = Identifier.random(prefix: "op-")
        let unlock = OperatorUnlock(
            siteID: configuration.site.id, gatewayID: configuration.gatewayID, requestID: requestID, lockID: lock,
            operatorName: who, note: reason,
            issuedAtMs: Int64(Date().timeIntervalSince1970 * 1000),
            operatorKey: OperatorUnlock.operatorKey(siteKey: siteKey, siteID: configuration.site.id))

        let topics = SiteTopics(prefix: configuration.topicPrefix, siteID: configuration.site.id)
        var clientConfiguration = try configuration.mqttConfiguration(for: .devices)
        clientConfiguration.clientID = "accessctl-\(requestID)"
        clientConfiguration.will = nil
        if let tlsCert, let tlsKey {
            guard var tls = clientConfiguration.tls else {
                throw Failure("--tls-cert needs TLS: \(config) has no broker.tls.caFile")
            }
            tls.certificateFile = tlsCert
            tls.privateKeyFile = tlsKey
            clientConfiguration.tls = tls
        }
        let client = try MQTTClient(configuration: clientConfiguration)
        do {
            try await client.connect()
        } catch {
            throw Failure(
                "cannot reach the broker at \(configuration.broker.host):\(configuration.broker.port): \(error)")
        }
        let replyTopic = topics.operatorReply(gatewayID: configuration.gatewayID, requestID: requestID)
        try await client.subscribe(replyTopic)
        var properties = MQTTPublishProperties()
        properties.responseTopic = replyTopic
        properties.correlationData = Array(requestID.utf8)
        try await client.publishAcknowledged(
            MQTTMessage(
                topic: topics.operatorUnlock(gatewayID: configuration.gatewayID), payload: unlock.payload,
                properties: properties))
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        var answer: String?
        let messages = client.messages
        let waiter = Task { () -> String? in
            for await message in messages where message.topic == replyTopic { return message.payloadString }
            return nil
        }
        let timer = Task {
            try? await Task.sleep(until: deadline)
            waiter.cancel()
            await client.shutdown()
        }
        answer = await waiter.value
        timer.cancel()
        await client.shutdown()
        guard let answer else {
            throw Failure("the gateway \(configuration.gatewayID) did not answer within \(timeout) s")
        }
        let reply = (try? JSONSerialization.jsonObject(with: Data(answer.utf8))) as? [String: Any] ?? [:]
        let granted = reply["granted"] as? Bool == true
        if json {
            print(answer)
        } else if granted {
            let seq = (reply["auditSeq"] as? Int).map { "audit seq \($0)" } ?? "audited"
            let command = (reply["commandId"] as? String).map { ", command \($0)" } ?? ""
            print("\(lock) unlocked by \(who) (\(seq)\(command)): \(reason)")
        } else {
            let why = [reply["reason"] as? String, reply["detail"] as? String].compactMap(\.self).joined(
                separator: ": ")
            print("\(lock) not unlocked: \(why.isEmpty ? answer : why)")
        }
        if !granted { throw ExitCode(1) }
    }
}
