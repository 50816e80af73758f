extension DeviceMonitor {
    /// Each lock's health in an array in the inventory's order, found through the inventory's
    /// binary search: at 100k locks 6 MB, where a dictionary keyed by id took 21 MB. It holds the
    /// inventory it was built for (the same storage as the site's, not a copy), so an index
    /// always means the same lock here and there.
    struct LockHealthTable: Sendable {
        private(set) var inventory: LockInventory
        private var health: [LockHealth]

        init(inventory: LockInventory, startMs: Int64) {
            self.inventory = inventory
            health = Array(repeating: LockHealth(lastStatusMs: startMs), count: inventory.count)
        }

        /// A new inventory: locks still in it keep their state, new ones start at `nowMs`.
        mutating func replaceInventory(_ new: LockInventory, nowMs: Int64) {
            health = inventory.carry(health, to: new, fresh: LockHealth(lastStatusMs: nowMs))
            inventory = new
        }

        /// The lock's health, nil when the inventory does not have it; setting nil changes nothing.
        subscript(lockID: String) -> LockHealth? {
            get { inventory.index(of: lockID).map { health[$0] } }
            set {
                guard let newValue, let index = inventory.index(of: lockID) else { return }
                health[index] = newValue
            }
        }

        var indices: Range<Int> { health.indices }
        subscript(position: Int) -> LockHealth {
            get { health[position] }
            set { health[position] = newValue }
        }
        func lock(at position: Int) -> Lock { inventory[position] }
        var values: [LockHealth] { health }
    }
}
