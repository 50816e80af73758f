import Foundation

extension LoopbackPort {
    /// Whether process `pid` itself holds the socket listening on 127.0.0.1:`port`. A connect
    /// that succeeds proves only that someone listens there: another test's broker on the same
    /// port would pass it, and then vanish when that test ends.
    public static func isListening(_ port: Int, ownedBy pid: Int32) -> Bool {
        guard let inode = listeningInode(port) else { return false }
        let descriptors = "/proc/\(pid)/fd"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: descriptors) else { return false }
        let wanted = "socket:[\(inode)]"
        return entries.contains { entry in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: descriptors + "/" + entry)) == wanted
        }
    }

    /// The inode of the IPv4 socket in state LISTEN on 127.0.0.1:`port`, from /proc/net/tcp.
    static func listeningInode(_ port: Int) -> String? {
        guard let table = ProcFile.read("/proc/net/tcp") else { return nil }
        let local = "0100007F:" + String(format: "%04X", port)
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode
            guard fields.count > 9, fields[1] == local, fields[3] == "0A" else { continue }
            return String(fields[9])
        }
        return nil
    }
}
