import MQTTTesting
import Testing

@testable import MQTT

@Suite struct ConnectionStateMachineTests {
    let t0 = ContinuousClock.now
    let refused = MQTTError.connectionRefused(reasonCode: 135, reason: "Not authorized")
    let lost = MQTTError.library(operation: "connection", code: 7, message: "The connection was lost.", detail: nil)

    func machine(retry: Bool = true) -> ConnectionStateMachine {
        ConnectionStateMachine(
            backoff: ReconnectBackoff(initialDelay: .seconds(1), maximumDelay: .seconds(8), jitter: 0),
            connectTimeout: .seconds(3), retry: retry)
    }

    @Test func connectsThenRestoresSessionOnConnack() {
        var machine = machine()
        #expect(machine.start() == .announce(.connecting(attempt: 1)))
        #expect(machine.nextStep(at: t0) == .issueConnect(attempt: 1))
        machine.connectIssued(at: t0)
        #expect(machine.nextStep(at: t0) == .driveNetwork)
        #expect(machine.connackAccepted() == .restoreSessionAndAnnounce)
        #expect(machine.isConnected)
    }

    @Test func failuresBackOffExponentiallyAndLossStartsOver() {
        var machine = machine()
        var generator = SplitMix64(seed: 7)
        _ = machine.start()
        machine.connectIssued(at: t0)
        #expect(
            machine.connectionFailed(refused, at: t0, using: &generator)
                == .announce(.disconnected(reason: refused, retryInMilliseconds: 1000)))
        #expect(machine.nextStep(at: t0) == .sleep(until: t0 + .seconds(1)))
        // Before the backoff ends nothing happens; at its end the next attempt is ready.
        #expect(machine.tick(at: t0 + .milliseconds(999), host: "h", port: 1, using: &generator) == .none)
        #expect(
            machine.tick(at: t0 + .seconds(1), host: "h", port: 1, using: &generator)
                == .announce(.connecting(attempt: 2)))
        machine.connectIssued(at: t0 + .seconds(1))
        #expect(
            machine.connectionFailed(refused, at: t0 + .seconds(1), using: &generator)
                == .announce(.disconnected(reason: refused, retryInMilliseconds: 2000)))
        _ = machine.tick(at: t0 + .seconds(3), host: "h", port: 1, using: &generator)
        machine.connectIssued(at: t0 + .seconds(3))
        _ = machine.connackAccepted()
        // A loss after a good connection starts the backoff from the beginning.
        #expect(
            machine.connectionFailed(lost, at: t0 + .seconds(9), using: &generator)
                == .announce(.disconnected(reason: lost, retryInMilliseconds: 1000)))
    }

    @Test func connectTimeoutCountsAsAFailure() {
        var machine = machine()
        var generator = SplitMix64(seed: 7)
        _ = machine.start()
        machine.connectIssued(at: t0)
        #expect(machine.tick(at: t0 + .seconds(2), host: "h", port: 1, using: &generator) == .none)
        let action = machine.tick(at: t0 + .seconds(3), host: "h", port: 1, using: &generator)
        #expect(
            action
                == .announce(
                    .disconnected(
                        reason: .connectTimedOut(host: "h", port: 1, timeoutMilliseconds: 3000),
                        retryInMilliseconds: 1000)))
    }

    @Test func oneShotConnectFinishesOnTheFirstFailure() {
        var machine = machine(retry: false)
        var generator = SplitMix64(seed: 7)
        _ = machine.start()
        machine.connectIssued(at: t0)
        #expect(
            machine.connectionFailed(refused, at: t0, using: &generator)
                == .announce(.disconnected(reason: refused, retryInMilliseconds: nil)))
        #expect(machine.nextStep(at: t0) == .exit)
    }

    @Test func oneShotConnectRetriesOnceItWasConnected() {
        var machine = machine(retry: false)
        var generator = SplitMix64(seed: 7)
        _ = machine.start()
        machine.connectIssued(at: t0)
        _ = machine.connackAccepted()
        #expect(
            machine.connectionFailed(lost, at: t0, using: &generator)
                == .announce(.disconnected(reason: lost, retryInMilliseconds: 1000)))
        #expect(machine.nextStep(at: t0) == .sleep(until: t0 + .seconds(1)))
    }

    @Test func shutdownDisconnectsALiveConnectionAndStopsABackoff() {
        var live = machine()
        var generator = SplitMix64(seed: 7)
        _ = live.start()
        live.connectIssued(at: t0)
        _ = live.connackAccepted()
        #expect(live.shutdownRequested(at: t0) == .sendDisconnect)
        #expect(live.nextStep(at: t0) == .driveNetwork)
        #expect(live.disconnectCompleted() == .announce(.shutDown))
        #expect(live.nextStep(at: t0) == .exit)

        var waiting = machine()
        _ = waiting.start()
        waiting.connectIssued(at: t0)
        _ = waiting.connectionFailed(lost, at: t0, using: &generator)
        #expect(waiting.shutdownRequested(at: t0) == .announce(.shutDown))
        #expect(waiting.nextStep(at: t0) == .exit)
    }

    @Test func disconnectThatNeverCompletesStillFinishes() {
        var machine = machine()
        var generator = SplitMix64(seed: 7)
        _ = machine.start()
        machine.connectIssued(at: t0)
        _ = machine.connackAccepted()
        _ = machine.shutdownRequested(at: t0)
        #expect(
            machine.tick(at: t0 + .seconds(5), host: "h", port: 1, using: &generator) == .announce(.shutDown))
        #expect(machine.isFinished)
    }
}
