import AccessCore
import AccessProtocol
import MQTT

/// Sends a grant's unlock to a dialect lock, in its dialect, with the signed command's lifetime
/// as Message Expiry: the device verifies nothing, so a command that could arrive late must not
/// arrive at all. A command already past `notAfter` is dropped and counted, as for a contract
/// lock.
func publishProfileUnlock(_ command: LockCommand, lock: Lock, context: GatewayContext) {
    guard let device = lock.device,
        let (topic, payload) = ProfileCommands.unlock(
            lock.profile, device: device, unlockForS: context.settings.configuration.policy.unlockForS,
            topics: context.settings.profileTopics)
    else { return }
    guard let expiry = command.messageExpiryS(nowMs: context.nowMs()) else {
        context.metrics.staleCommands.increment()
        context.logger.warning("unlock dropped: already past notAfter", metadata: ["command": "\(command.commandID)"])
        return
    }
    var properties = MQTTPublishProperties()
    properties.messageExpiryInterval = expiry
    context.monitor.update {
        $0.commandIssued(lockID: lock.id, commandID: command.commandID, notAfterMs: command.notAfterMs)
        return []
    }
    context.pendingUnlocks.issued(lockID: lock.id, commandID: command.commandID, notAfterMs: command.notAfterMs)
    context.publish(MQTTMessage(topic: topic, payload: Array(payload.utf8), properties: properties))
    context.metrics.commandsPublished.increment()
}
