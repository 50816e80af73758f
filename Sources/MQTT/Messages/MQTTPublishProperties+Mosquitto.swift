import CMosquitto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension MQTTPublishProperties {
    /// Runs `body` with these properties as a libmosquitto property list (nil when empty) and
    /// frees the list afterwards.
    func withMosquittoPropertyList<Result>(
        _ body: (OpaquePointer?) throws(MQTTError) -> Result
    ) throws(MQTTError) -> Result {
        var list = try makeMosquittoPropertyList()
        defer { mosquitto_property_free_all(&list) }
        return try body(list)
    }

    /// A new libmosquitto property list (nil when empty) that the caller owns.
    func makeMosquittoPropertyList() throws(MQTTError) -> OpaquePointer? {
        if isEmpty { return nil }
        var list: OpaquePointer?
        var complete = false
        defer { if !complete { mosquitto_property_free_all(&list) } }
        if let expiry = messageExpiryInterval {
            try mosquittoCall("add message expiry property") {
                mosquitto_property_add_int32(&list, Int32(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue), expiry)
            }
        }
        if let topic = responseTopic {
            try mosquittoCall("add response topic property") {
                mosquitto_property_add_string(&list, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), topic)
            }
        }
        if let data = correlationData {
            guard data.count <= Int(UInt16.max) else {
                throw .invalidArgument("correlation data is \(data.count) bytes; at most 65535")
            }
            try mosquittoCall("add correlation data property") {
                data.withUnsafeBytes { bytes in
                    mosquitto_property_add_binary(
                        &list, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), bytes.baseAddress, UInt16(bytes.count))
                }
            }
        }
        if let type = contentType {
            try mosquittoCall("add content type property") {
                mosquitto_property_add_string(&list, Int32(MQTT_PROP_CONTENT_TYPE.rawValue), type)
            }
        }
        for property in userProperties {
            try mosquittoCall("add user property") {
                mosquitto_property_add_string_pair(
                    &list, Int32(MQTT_PROP_USER_PROPERTY.rawValue), property.name, property.value)
            }
        }
        complete = true
        return list
    }

    /// Copies the properties of an inbound PUBLISH out of libmosquitto's list.
    init(mosquittoPropertyList list: OpaquePointer?) {
        self.init()
        guard let list else { return }
        var expiry: UInt32 = 0
        if mosquitto_property_read_int32(list, Int32(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue), &expiry, false)
            != nil
        {
            messageExpiryInterval = expiry
        }
        responseTopic = Self.readString(list, MQTT_PROP_RESPONSE_TOPIC)
        contentType = Self.readString(list, MQTT_PROP_CONTENT_TYPE)
        var binary: UnsafeMutableRawPointer?
        var length: UInt16 = 0
        if mosquitto_property_read_binary(list, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), &binary, &length, false)
            != nil
        {
            if let binary {
                correlationData = Array(UnsafeRawBufferPointer(start: binary, count: Int(length)))
                free(binary)
            } else {
                correlationData = []
            }
        }
        var name: UnsafeMutablePointer<CChar>?
        var value: UnsafeMutablePointer<CChar>?
        var cursor = mosquitto_property_read_string_pair(
            list, Int32(MQTT_PROP_USER_PROPERTY.rawValue), &name, &value, false)
        while cursor != nil {
            if let name, let value {
                userProperties.append(MQTTUserProperty(String(cString: name), String(cString: value)))
            }
            free(name)
            free(value)
            name = nil
            value = nil
            cursor = mosquitto_property_read_string_pair(
                cursor, Int32(MQTT_PROP_USER_PROPERTY.rawValue), &name, &value, true)
        }
    }

    private static func readString(_ list: OpaquePointer, _ identifier: mqtt5_property) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard mosquitto_property_read_string(list, Int32(identifier.rawValue), &value, false) != nil,
            let value
        else { return nil }
        defer { free(value) }
        return String(cString: value)
    }
}
