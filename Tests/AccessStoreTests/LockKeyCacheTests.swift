import AccessCore
import AccessProtocol
import AccessTesting
import Crypto
import Testing

@testable import AccessEngine

/// Lock keys are kept set up for the locks in use, at most `LockKeyCache.limit` of them, and a
/// reloaded site key signs the very next command.
@Suite struct LockKeyCacheTests {
    @Test func theCacheDerivesEachKeyOnceAndIsBounded() {
        let cache = LockKeyCache()
        var derived = 0
        let derive = {
            derived += 1
            return PreparedHMAC(key: SymmetricKey(size: .bits256))
        }
        for index in 0..<LockKeyCache.limit { _ = cache.key("lock-\(index)", derive: derive) }
        _ = cache.key("lock-0", derive: derive)
        #expect(derived == LockKeyCache.limit && cache.count == LockKeyCache.limit)
        // One more lock: it starts again with that one only.
        _ = cache.key("lock-new", derive: derive)
        #expect(derived == LockKeyCache.limit + 1 && cache.count == 1)
    }

    @Test func aCommandAfterASiteKeyReloadIsSignedWithTheNewKey() async throws {
        let store = try TemporaryStore()
        try store.insert([AccessEngineTests.booking])
        let pin = store.testSite.pin(of: AccessEngineTests.booking)
        let startMs = AccessEngineTests.startMs
        func command(at nowMs: Int64) async throws -> LockCommand {
            let payload = TestSite.requestPayload(requestID: "r-\(nowMs)", credential: .pin(pin))
            guard
                case .decided(let decided) = await store.engine.handle(lockID: "lock-1", payload: payload, nowMs: nowMs)
            else { throw CommandMissing() }
            return try #require(decided.command)
        }
        func verifies(_ command: LockCommand, with keys: DeviceKeys) -> Bool {
            let canonical = CommandMAC.lockCanonical(
                siteID: "site-1", lockID: "lock-1", commandID: command.commandID, action: "unlock", unlockForS: 5,
                issuedAt: command.issuedAtMs, notAfter: command.notAfterMs)
            return CommandMAC.verify(mac: command.mac, canonical: canonical, key: keys.lockKey(lockID: "lock-1"))
        }
        let before = try await command(at: startMs)
        #expect(verifies(before, with: store.testSite.deviceKeys))

        let newSiteKey = SymmetricKey(data: (0..<32).map { UInt8($0) })
        let old = store.engine.currentConfiguration
        let site = store.testSite
        store.engine.reload(
            AccessEngineConfiguration(
                gatewayID: old.gatewayID, site: site.site, policy: site.policy, issuers: [site.minter.issuerKey],
                siteKey: newSiteKey, pinKey: site.pinKey))
        let after = try await command(at: startMs + 1000)
        #expect(verifies(after, with: DeviceKeys(siteKey: newSiteKey, siteID: "site-1")))
        #expect(!verifies(after, with: store.testSite.deviceKeys))
    }

    struct CommandMissing: Error {}
}
