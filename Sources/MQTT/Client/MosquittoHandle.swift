import CMosquitto

/// libmosquitto is initialised once per process, the first time a handle is made.
private let libraryInitialisation: Int32 = mosquitto_lib_init()

/// Owns one `struct mosquitto *`. libmosquitto's own mutexes make the handle safe to use from
/// the network-loop thread and from publishing threads at once (`mosquitto_threaded_set`).
final class MosquittoHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// `cleanStart` false keeps the broker's session (its queued messages) across connections;
    /// the client restores its own subscriptions on every (re)connect either way.
    init(clientID: String, cleanStart: Bool = true) throws(MQTTError) {
        try mosquittoCall("mosquitto_lib_init") { libraryInitialisation }
        guard let pointer = mosquitto_new(clientID, cleanStart, nil) else {
            throw .invalidArgument("libmosquitto could not create a client for id '\(clientID)'")
        }
        self.pointer = pointer
    }

    deinit {
        mosquitto_destroy(pointer)
    }
}
