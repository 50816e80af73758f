import CMosquitto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one place where a libmosquitto return code becomes a Swift error.
///
/// Every call into libmosquitto that returns a `MOSQ_ERR_*` code goes through here, so no code
/// is ever ignored and every error names the operation and carries `mosquitto_strerror`.
/// `MOSQ_ERR_ERRNO` is resolved against `errno` right away, before anything else can clobber it.
@inline(__always)
func mosquittoCall(
    _ operation: @autoclosure () -> String,
    detail: () -> String? = { nil },
    _ body: () -> Int32
) throws(MQTTError) {
    let code = body()
    guard code != MOSQ_ERR_SUCCESS.rawValue else { return }
    throw MQTTError.fromMosquitto(code: code, errno: errno, operation: operation(), detail: detail())
}

extension MQTTError {
    static func fromMosquitto(code: Int32, errno savedErrno: Int32, operation: String, detail: String?) -> MQTTError {
        let message: String
        if code == MOSQ_ERR_ERRNO.rawValue {
            message = String(cString: strerror(savedErrno))
        } else {
            message = String(cString: mosquitto_strerror(code))
        }
        return .library(operation: operation, code: code, message: message, detail: detail)
    }

    /// The text of an MQTT v5 reason code (CONNACK, SUBACK, PUBACK, DISCONNECT).
    static func reasonText(_ reasonCode: Int32) -> String {
        String(cString: mosquitto_reason_string(reasonCode))
    }
}
