import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The store's file on disk, as the operating system sees it: whether it exists, which file it
/// is (device and inode), the free space beside it, and the marker that says a store was made
/// in this state directory. So that a store deleted or replaced under the gateway, or lost
/// between two starts, is noticed instead of being silently replaced by an empty one.
public struct StoreFile: Sendable, Hashable {
    /// Which file a path names: a replaced file has another inode, a deleted one none.
    public struct Identity: Sendable, Hashable, CustomStringConvertible {
        public var device: UInt64
        public var inode: UInt64

        public var description: String { "device \(device) inode \(inode)" }
    }

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Beside the store: `<dir>/.<name>.created`, written when the store is created. A state
    /// directory with the marker and without the store lost its store.
    public var markerPath: String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).created").path
    }

    public var directory: String { URL(fileURLWithPath: path).deletingLastPathComponent().path }

    public var exists: Bool { identity() != nil }
    public var markerExists: Bool { FileManager.default.fileExists(atPath: markerPath) }

    /// The file's identity now; nil when there is no file at `path`.
    public func identity() -> Identity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Bytes available to this process on the store's file system; nil when it cannot be read.
    public func freeBytes() -> UInt64? {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        let (bytes, overflow) = UInt64(info.f_bavail).multipliedReportingOverflow(by: UInt64(info.f_frsize))
        return overflow ? .max : bytes
    }

    /// Size of the write-ahead log (`<path>-wal`); 0 when there is none.
    public func walBytes() -> UInt64 {
        var info = stat()
        guard stat(path + "-wal", &info) == 0 else { return 0 }
        return UInt64(max(0, info.st_size))
    }

    /// Records that a store was made here (synced, like the store's own first commit).
    public func writeMarker(storeCreatedMs: Int64) throws {
        let text = "access-gateway store created at \(storeCreatedMs) ms: \(path)\n"
        let descriptor = open(markerPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError.io(operation: "create \(markerPath)", errno: errno) }
        defer { close(descriptor) }
        let written = text.utf8CString.withUnsafeBufferPointer { buffer in
            write(descriptor, buffer.baseAddress, buffer.count - 1)
        }
        guard written == text.utf8.count, fsync(descriptor) == 0 else {
            throw StoreError.io(operation: "write \(markerPath)", errno: errno)
        }
    }
}
