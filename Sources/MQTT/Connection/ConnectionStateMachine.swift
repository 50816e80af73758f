/// The connection lifecycle as a pure state machine: it does no I/O and reads no clock.
///
/// The network-loop thread feeds it events (what libmosquitto reported, the time) and performs
/// the `Action`s it returns; `nextStep(at:)` says what the loop should do next. Keeping the
/// decisions here means reconnect, backoff, timeouts and shutdown are unit-tested directly.
struct ConnectionStateMachine {
    enum State: Equatable {
        /// Not started yet.
        case idle
        /// The loop should issue a connect for `attempt`.
        case readyToConnect(attempt: Int)
        /// Connect issued; waiting for the TCP/TLS handshake and CONNACK until `deadline`.
        case connecting(attempt: Int, deadline: ContinuousClock.Instant)
        case connected
        /// Waiting before `attempt`.
        case backingOff(attempt: Int, until: ContinuousClock.Instant)
        /// DISCONNECT sent on shutdown; waiting for the socket to close until `deadline`.
        case disconnecting(deadline: ContinuousClock.Instant)
        case finished
    }

    /// What the network loop should do now.
    enum Step: Equatable {
        case issueConnect(attempt: Int)
        /// Run libmosquitto's loop (socket I/O, keepalive, callbacks).
        case driveNetwork
        case sleep(until: ContinuousClock.Instant)
        case exit
    }

    /// What the loop must do in response to an event, besides moving to the next step.
    enum Action: Equatable {
        case none
        /// Tell observers about the new state.
        case announce(MQTTConnectionState)
        /// CONNACK accepted: restore subscriptions, send what was held, then announce.
        case restoreSessionAndAnnounce
        /// Send DISCONNECT (graceful shutdown of a live connection).
        case sendDisconnect
    }

    private(set) var state: State = .idle
    let backoff: ReconnectBackoff
    let connectTimeout: Duration
    let disconnectTimeout: Duration
    /// With `retry` false the first failure finishes the machine (one-shot `connect()`).
    var retry: Bool

    init(backoff: ReconnectBackoff, connectTimeout: Duration, disconnectTimeout: Duration = .seconds(2), retry: Bool) {
        self.backoff = backoff
        self.connectTimeout = connectTimeout
        self.disconnectTimeout = disconnectTimeout
        self.retry = retry
    }

    var isConnected: Bool { state == .connected }
    var isFinished: Bool { state == .finished }

    mutating func start() -> Action {
        guard state == .idle else { return .none }
        state = .readyToConnect(attempt: 1)
        return .announce(.connecting(attempt: 1))
    }

    func nextStep(at now: ContinuousClock.Instant) -> Step {
        switch state {
        case .idle, .finished: return .exit
        case .readyToConnect(let attempt): return .issueConnect(attempt: attempt)
        case .connecting, .connected, .disconnecting: return .driveNetwork
        case .backingOff(_, let until): return .sleep(until: until)
        }
    }

    /// The connect call was issued without error; the handshake runs in the network loop.
    mutating func connectIssued(at now: ContinuousClock.Instant) {
        guard case .readyToConnect(let attempt) = state else { return }
        state = .connecting(attempt: attempt, deadline: now + connectTimeout)
    }

    mutating func connackAccepted() -> Action {
        guard case .connecting = state else { return .none }
        state = .connected
        // One-shot applies to the first connection only: once up, losses are repaired.
        retry = true
        return .restoreSessionAndAnnounce
    }

    /// A connect attempt failed (refused CONNACK, TCP/TLS error, timeout) or a live
    /// connection was lost.
    mutating func connectionFailed(
        _ error: MQTTError, at now: ContinuousClock.Instant, using generator: inout some RandomNumberGenerator
    ) -> Action {
        // Attempt k failing waits backoff(k) before attempt k + 1; a lost connection waits
        // backoff(1) before its first reconnect attempt.
        let failures: Int
        let nextAttempt: Int
        switch state {
        case .readyToConnect(let current), .connecting(let current, _):
            failures = current
            nextAttempt = current + 1
        case .connected:
            failures = 1
            nextAttempt = 1
        case .disconnecting:
            state = .finished
            return .announce(.shutDown)
        case .idle, .backingOff, .finished:
            return .none
        }
        guard retry else {
            state = .finished
            return .announce(.disconnected(reason: error, retryInMilliseconds: nil))
        }
        let delay = backoff.delay(forAttempt: failures, using: &generator)
        state = .backingOff(attempt: nextAttempt, until: now + delay)
        return .announce(.disconnected(reason: error, retryInMilliseconds: Int(ReconnectBackoff.seconds(delay) * 1000)))
    }

    /// Time passed: connect timeouts and the end of a backoff.
    mutating func tick(
        at now: ContinuousClock.Instant, host: String, port: Int, using generator: inout some RandomNumberGenerator
    ) -> Action {
        switch state {
        case .connecting(_, let deadline) where now >= deadline:
            let millis = Int(ReconnectBackoff.seconds(connectTimeout) * 1000)
            return connectionFailed(
                .connectTimedOut(host: host, port: port, timeoutMilliseconds: millis), at: now, using: &generator)
        case .backingOff(let attempt, let until) where now >= until:
            state = .readyToConnect(attempt: attempt)
            return .announce(.connecting(attempt: attempt))
        case .disconnecting(let deadline) where now >= deadline:
            state = .finished
            return .announce(.shutDown)
        default:
            return .none
        }
    }

    /// The socket closed after our own DISCONNECT.
    mutating func disconnectCompleted() -> Action {
        guard case .disconnecting = state else { return .none }
        state = .finished
        return .announce(.shutDown)
    }

    mutating func shutdownRequested(at now: ContinuousClock.Instant) -> Action {
        switch state {
        case .connected, .connecting:
            state = .disconnecting(deadline: now + disconnectTimeout)
            return .sendDisconnect
        case .idle, .readyToConnect, .backingOff:
            state = .finished
            return .announce(.shutDown)
        case .disconnecting, .finished:
            return .none
        }
    }
}
