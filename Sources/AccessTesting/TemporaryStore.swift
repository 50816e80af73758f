import AccessCore
import AccessEngine
import AccessProtocol
import AccessStore

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A store in a fresh temporary directory, with its audit log and an engine for a test site;
/// `remove()` deletes the directory.
public final class TemporaryStore: Sendable {
    public let directory: String
    public let path: String
    public let store: AccessStore
    public let auditLog: AuditLog
    public let engine: AccessEngine
    public let testSite: TestSite

    public init(
        testSite: TestSite = TestSite(), synchronous: StoreConfiguration.Synchronous = .full,
        backgroundCheckpoints: Bool = false, makeCommandID: (@Sendable () -> String)? = nil
    ) throws {
        var template = Array("/tmp/access-store-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TemporaryStoreError.cannotCreateDirectory }
        directory = String(cString: made)
        path = directory + "/access.sqlite"
        self.testSite = testSite
        store = try AccessStore(
            configuration: StoreConfiguration(
                path: path, synchronous: synchronous, backgroundCheckpoints: backgroundCheckpoints),
            pinIndex: testSite.pinIndex)
        try store.saveSite(testSite.site)
        auditLog = try AuditLog(store: store)
        engine = AccessEngine(
            store: store, auditLog: auditLog, configuration: testSite.engineConfiguration(),
            makeCommandID: makeCommandID ?? AccessEngine.randomCommandID)
    }

    /// Applies reservations as upserts.
    public func insert(_ reservations: [Reservation], nowMs: Int64 = 0) throws {
        for reservation in reservations { _ = try store.apply(.upsert(reservation), nowMs: nowMs) }
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit {
        remove()
    }
}

public enum TemporaryStoreError: Error {
    case cannotCreateDirectory
}
