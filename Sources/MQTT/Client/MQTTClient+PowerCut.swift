import CMosquitto

#if canImport(Glibc)
    import Glibc
#endif

extension MQTTClient {
    /// Ends the connection as a power cut would: the TCP connection is closed under the client
    /// without a DISCONNECT, so the broker publishes the Last Will; then the client shuts down.
    /// For device simulators and tests.
    public func shutdownAbruptly() async {
        let socket = mosquitto_socket(handle.pointer)
        if socket >= 0 { _ = Glibc.shutdown(socket, Int32(SHUT_RDWR)) }
        await shutdown()
    }
}
