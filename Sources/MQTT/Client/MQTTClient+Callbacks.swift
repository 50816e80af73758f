import CMosquitto
import Logging

extension MQTTClient {
    /// Applies the configuration to the handle and installs the callbacks. libmosquitto calls
    /// them on the network thread; each copies what it needs and returns without blocking.
    func configureHandle() throws(MQTTError) {
        let pointer = handle.pointer
        // The options and callbacks are set on a new handle and again after every
        // `mosquitto_reinitialise` (which clears them).
        mosquitto_user_data_set(pointer, Unmanaged.passUnretained(self).toOpaque())
        try mosquittoCall("select MQTT v5") {
            mosquitto_int_option(pointer, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5)
        }
        try mosquittoCall("set TCP_NODELAY") {
            mosquitto_int_option(pointer, MOSQ_OPT_TCP_NODELAY, configuration.tcpNoDelay ? 1 : 0)
        }
        try mosquittoCall("set receive maximum \(configuration.receiveMaximum)") {
            mosquitto_int_option(pointer, MOSQ_OPT_RECEIVE_MAXIMUM, Int32(clamping: configuration.receiveMaximum))
        }
        if let expiry = configuration.sessionExpiryInterval {
            try setSessionExpiry(expiry)
        }
        // Other threads publish while the network thread runs the loop.
        try mosquittoCall("enable threaded mode") { mosquitto_threaded_set(pointer, true) }
        if configuration.username != nil || configuration.password != nil {
            try mosquittoCall("set username and password") {
                mosquitto_username_pw_set(pointer, configuration.username, configuration.password)
            }
        }
        if let tls = configuration.tls {
            try mosquittoCall("configure TLS (CA \(tls.caFile))") {
                mosquitto_tls_set(pointer, tls.caFile, nil, tls.certificateFile, tls.privateKeyFile, nil)
            }
            try mosquittoCall("set TLS options") {
                mosquitto_tls_opts_set(pointer, 1, tls.minimumVersion.rawValue, nil)
            }
            try mosquittoCall("require TLS host name verification") { mosquitto_tls_insecure_set(pointer, false) }
        }
        if let will = configuration.will {
            // On success libmosquitto owns the property list; on failure it is ours to free.
            var properties = try will.properties.makeMosquittoPropertyList()
            let code = will.payload.withUnsafeBytes { bytes in
                mosquitto_will_set_v5(
                    pointer, will.topic, Int32(bytes.count), bytes.baseAddress, will.qos.rawValue, will.retain,
                    properties)
            }
            if code != MOSQ_ERR_SUCCESS.rawValue { mosquitto_property_free_all(&properties) }
            try mosquittoCall("set Last Will on '\(will.topic)'") { code }
        }

        mosquitto_connect_v5_callback_set(pointer) { _, context, reasonCode, _, properties in
            var receiveMaximum: UInt16 = 65535
            _ = mosquitto_property_read_int16(
                properties, Int32(MQTT_PROP_RECEIVE_MAXIMUM.rawValue), &receiveMaximum, false)
            MQTTClient.from(context)?.connackReceived(reasonCode: reasonCode, receiveMaximum: Int(receiveMaximum))
        }
        mosquitto_disconnect_v5_callback_set(pointer) { _, context, reasonCode, _ in
            MQTTClient.from(context)?.disconnected(reasonCode: reasonCode)
        }
        mosquitto_message_v5_callback_set(pointer) { _, context, message, properties in
            guard let message else { return }
            MQTTClient.from(context)?.received(message, properties: properties)
        }
        mosquitto_subscribe_v5_callback_set(pointer) { _, context, mid, count, granted, _ in
            // One filter per SUBSCRIBE: the first granted QoS is the reason code.
            let reasonCode = count > 0 ? (granted?.pointee ?? 0x80) : 0x80
            MQTTClient.from(context)?.acknowledged(mid: mid, reasonCode: reasonCode)
        }
        mosquitto_unsubscribe_v5_callback_set(pointer) { _, context, mid, _ in
            MQTTClient.from(context)?.acknowledged(mid: mid, reasonCode: 0)
        }
        mosquitto_publish_v5_callback_set(pointer) { _, context, mid, reasonCode, _ in
            MQTTClient.from(context)?.acknowledged(mid: mid, reasonCode: reasonCode)
        }
        listenToLibraryLog(true)
    }

    /// libmosquitto's log while connecting (a TLS or connect failure's detail), and not once the
    /// broker accepted: with a log callback set, libmosquitto formats a debug line into a fresh
    /// buffer for every packet it sends or receives, six per decision, which the callback then
    /// throws away (about 1 % of the gateway's CPU at saturation). A connection lost later is
    /// still reported, by its return code. libmosquitto guards the callback with its own mutex.
    func listenToLibraryLog(_ listening: Bool) {
        guard listening else {
            mosquitto_log_callback_set(handle.pointer, nil)
            return
        }
        mosquitto_log_callback_set(handle.pointer) { _, context, level, text in
            guard level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0, let text else { return }
            MQTTClient.from(context)?.libraryLogged(String(cString: text), isError: level & MOSQ_LOG_ERR != 0)
        }
    }

    /// libmosquitto sends CONNECT properties only from `mosquitto_connect_bind_v5`, which connects
    /// blocking; the asynchronous connect this client uses reuses the properties kept by the last
    /// such call. So the properties are handed over by one call that stops at its argument check
    /// (port -1) after keeping them, before any connection is tried; `MQTTClientSessionTests`
    /// checks that the broker keeps the session.
    private func setSessionExpiry(_ seconds: UInt32) throws(MQTTError) {
        var properties: OpaquePointer?
        try mosquittoCall("build the Session Expiry Interval property") {
            mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), seconds)
        }
        defer { mosquitto_property_free_all(&properties) }
        let code = mosquitto_connect_bind_v5(
            handle.pointer, "", -1, Int32(configuration.keepAliveSeconds), nil, properties)
        guard code == MOSQ_ERR_INVAL.rawValue else {
            throw .invalidArgument("libmosquitto did not keep the session properties (code \(code))")
        }
    }

    /// Before a reconnect: a handle in its initial state, so that libmosquitto holds no message
    /// of the old connection to resend (it would resend a command with the expiry it had when
    /// first sent, after its `notAfter`). What was unacknowledged is already back in `pending`.
    /// Called on the network thread, outside `mosquitto_loop`, with the core locked.
    func freshenHandle() throws(MQTTError) {
        try mosquittoCall("reinitialise the client") {
            mosquitto_reinitialise(
                handle.pointer, configuration.clientID, configuration.sessionExpiryInterval == nil, nil)
        }
        try configureHandle()
    }

    static func from(_ context: UnsafeMutableRawPointer?) -> MQTTClient? {
        guard let context else { return nil }
        return Unmanaged<MQTTClient>.fromOpaque(context).takeUnretainedValue()
    }

    func connackReceived(reasonCode: Int32, receiveMaximum: Int) {
        core.withLock { core in
            if reasonCode == 0 {
                listenToLibraryLog(false)
                core.brokerReceiveMaximum = max(1, receiveMaximum)
                apply(core.machine.connackAccepted(), core: &core)
            } else {
                var generator = SystemRandomNumberGenerator()
                let error = MQTTError.connectionRefused(
                    reasonCode: reasonCode, reason: MQTTError.reasonText(reasonCode))
                apply(core.machine.connectionFailed(error, at: .now, using: &generator), core: &core)
            }
        }
    }

    func disconnected(reasonCode: Int32) {
        // Losses are reported by mosquitto_loop's return code; only our own DISCONNECT
        // completing (reason 0) is handled here.
        guard reasonCode == 0 else { return }
        core.withLock { core in apply(core.machine.disconnectCompleted(), core: &core) }
    }

    func received(_ message: UnsafePointer<mosquitto_message>, properties: OpaquePointer?) {
        let raw = message.pointee
        guard let topic = raw.topic else { return }
        var payload: [UInt8] = []
        if raw.payloadlen > 0, let bytes = raw.payload {
            payload = Array(UnsafeRawBufferPointer(start: bytes, count: Int(raw.payloadlen)))
        }
        let inboundMessage = MQTTMessage(
            topic: String(cString: topic), payload: payload, qos: MQTTQoS(rawValue: raw.qos) ?? .atMostOnce,
            retain: raw.retain, properties: MQTTPublishProperties(mosquittoPropertyList: properties))
        if let handler = configuration.messageHandler {
            receivedCount.add(1, ordering: .relaxed)
            handler(inboundMessage)
            return
        }
        switch inbound.yield(inboundMessage) {
        case .enqueued:
            receivedCount.add(1, ordering: .relaxed)
        case .dropped:
            let dropped = droppedCount.add(1, ordering: .relaxed).newValue
            if dropped == 1 || dropped % 1000 == 0 {
                logger.warning(
                    "inbound buffer full: consumer is behind, messages dropped",
                    metadata: ["mqtt.dropped_total": "\(dropped)"])
            }
        case .terminated:
            return
        @unknown default:
            return
        }
    }

    func acknowledged(mid: Int32, reasonCode: Int32) {
        let waiter = core.withLock { core -> AcknowledgementWaiter? in
            if core.unacknowledged.removeValue(forKey: mid) != nil {
                // Room in flight: what waits behind the limit goes next.
                sendPending(core: &core)
            }
            let waiter = core.acknowledgementWaiters.removeValue(forKey: mid)
            if reasonCode >= 0x80 {
                switch waiter?.operation {
                case .subscribe: core.statistics.subscriptionsRefused += 1
                case .publish: core.statistics.publishesRefused += 1
                default: break
                }
            }
            return waiter
        }
        if reasonCode >= 0x80 && waiter == nil {
            logger.warning("broker refused message \(mid): \(MQTTError.reasonText(reasonCode))")
        }
        waiter?.continuation.resume(returning: waiter?.operation.outcome(reasonCode: reasonCode) ?? .success(()))
    }

    func libraryLogged(_ text: String, isError: Bool) {
        if isError {
            lastLibraryError.withLock { $0 = text }
            logger.debug("libmosquitto: \(text)")
        } else {
            logger.debug("libmosquitto: \(text)")
        }
    }
}
