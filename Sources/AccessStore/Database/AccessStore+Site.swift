import AccessCore
import AccessProtocol
import GRDB

extension AccessStore {
    /// Replaces the stored inventory with `site` in one transaction (reservations are untouched).
    public func saveSite(_ site: Site) throws {
        try bindSite(site.id)
        try pool.write { db in
            try db.execute(sql: "DELETE FROM space_poles; DELETE FROM locks; DELETE FROM spaces; DELETE FROM poles;")
            for pole in site.poles.values.sorted(by: { $0.id < $1.id }) {
                try db.execute(sql: "INSERT INTO poles (id) VALUES (?)", arguments: [pole.id])
            }
            for space in site.spaces.values {
                try db.execute(sql: "INSERT INTO spaces (id) VALUES (?)", arguments: [space.id])
                for (position, poleID) in space.poleIDs.enumerated() {
                    try db.execute(
                        sql: "INSERT INTO space_poles (space_id, pole_id, position) VALUES (?, ?, ?)",
                        arguments: [space.id, poleID, position])
                }
            }
            for lock in site.locks.values {
                try db.execute(
                    sql: """
                        INSERT INTO locks (id, space_id, profile, device, pin_slot_first, pin_slot_last)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        lock.id, lock.spaceID, lock.profile.rawValue, lock.device, lock.pinSlots?.lowerBound,
                        lock.pinSlots?.upperBound,
                    ])
            }
        }
    }

    /// The stored inventory, or nil when none was saved.
    public func loadSite() throws -> Site? {
        try pool.read { db in
            guard let siteID = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'site_id'")
            else { return nil }
            let poles = try String.fetchAll(db, sql: "SELECT id FROM poles ORDER BY id").map(Pole.init(id:))
            var links: [String: [String]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT space_id, pole_id FROM space_poles ORDER BY space_id, position")
            {
                links[row[0], default: []].append(row[1])
            }
            let spaces = try String.fetchAll(db, sql: "SELECT id FROM spaces ORDER BY id").map {
                Space(id: $0, poleIDs: links[$0] ?? [])
            }
            // A cursor, not fetchAll: 100k rows held at once would raise the daemon's peak memory.
            var locks: [Lock] = []
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, space_id, profile, device, pin_slot_first, pin_slot_last FROM locks ORDER BY id")
            while let row = try rows.next() {
                let profileName: String = row[2]
                guard let profile = DeviceProfile(rawValue: profileName) else {
                    throw StoreError.corruptRow(table: "locks", key: row[0], problem: "unknown profile \(profileName)")
                }
                var slots: ClosedRange<Int>?
                if let first: Int = row[4], let last: Int = row[5], first <= last { slots = first...last }
                locks.append(Lock(id: row[0], spaceID: row[1], profile: profile, device: row[3], pinSlots: slots))
            }
            return try Site(id: siteID, spaces: spaces, locks: locks, poles: poles)
        }
    }
}
