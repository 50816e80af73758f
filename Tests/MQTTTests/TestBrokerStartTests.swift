import Foundation
import MQTTTesting
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The test broker is ready only when its own process listens on its port: a connect that
/// reaches some other process on that port (another test's broker) does not count.
@Suite struct TestBrokerStartTests {
    @Test func aStartedBrokerOwnsItsListeningSocketAndNoOtherProcessDoes() async throws {
        try await withMosquittoBroker { broker in
            let pid = try #require(broker.processIdentifier)
            #expect(LoopbackPort.isListening(broker.port, ownedBy: pid))
            #expect(!LoopbackPort.isListening(broker.port, ownedBy: getpid()))
        }
    }

    @Test func aPortTakenBeforeTheBrokerBindsItIsNotMistakenForTheBroker() throws {
        // The first port handed out is taken by a listener of this process before mosquitto
        // starts, as another test's broker might; a connect to it succeeds, yet the broker exits.
        let squatter = Mutex<Int32?>(nil)
        let taken = Mutex<Int?>(nil)
        defer { squatter.withLock { fd in if let fd { close(fd) } } }
        let broker = try MosquittoBroker.start(configuration: { port, _ in
            if taken.withLock({ $0 == nil }) {
                taken.withLock { $0 = port }
                squatter.withLock { $0 = Self.listen(on: port) }
            }
            return "listener \(port) 127.0.0.1\nallow_anonymous true\n"
        })
        defer { broker.tearDown() }
        let firstPort = try #require(taken.withLock { $0 })
        #expect(squatter.withLock { $0 } != nil)
        #expect(broker.port != firstPort)
        #expect(broker.isRunning)
        let pid = try #require(broker.processIdentifier)
        #expect(LoopbackPort.isListening(broker.port, ownedBy: pid))
    }

    static func listen(on port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, 4) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}
