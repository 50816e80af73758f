/// A site's locks or spaces, sorted by id, found by binary search; an item's place in that order
/// is its `index`, which per-lock state elsewhere (the device monitor, live state) keys arrays by.
///
/// Why not a dictionary: at 100k locks a `[String: Lock]` has 2^18 buckets of 96 bytes, 25 MB;
/// this is 100k entries of 80 bytes, 8 MB, and a lookup is about 17 string comparisons.
public struct InventoryTable<Item: Identifiable & Sendable & Hashable>: Sendable, Hashable, RandomAccessCollection
where Item.ID == String {
    /// Every item, sorted by id, no id twice.
    public let values: [Item]

    /// Sorts `items` by id; of an id listed twice the first is kept (`Site.init` refuses that
    /// before it gets here).
    public init(_ items: [Item]) {
        var sorted: [Item] = []
        sorted.reserveCapacity(items.count)
        for item in items.enumerated().sorted(by: { ($0.element.id, $0.offset) < ($1.element.id, $1.offset) })
        where sorted.last?.id != item.element.id {
            sorted.append(item.element)
        }
        values = sorted
    }

    public var startIndex: Int { values.startIndex }
    public var endIndex: Int { values.endIndex }
    public subscript(position: Int) -> Item { values[position] }

    /// The item with this id, if the site has it.
    public subscript(id: String) -> Item? {
        index(of: id).map { values[$0] }
    }

    /// The item's place in id order, if the site has it.
    public func index(of id: String) -> Int? {
        var low = 0
        var high = values.count
        while low < high {
            let middle = low + (high - low) / 2
            let candidate = values[middle].id
            if candidate == id { return middle }
            if candidate < id { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// Per-item state kept in this table's order (`values[i]` is item `i`'s), moved to `new`'s
    /// order: items still there keep theirs, new ones get `fresh`.
    public func carry<State>(_ values: [State], to new: Self, fresh: State) -> [State] {
        var carried = Array(repeating: fresh, count: new.count)
        for (index, item) in new.enumerated() {
            if let old = self.index(of: item.id), old < values.count { carried[index] = values[old] }
        }
        return carried
    }

    /// The ids, sorted.
    public var keys: [String] { values.map(\.id) }

    /// The items keyed by id (for editing an inventory; the gateway itself never builds this).
    public var byID: [String: Item] {
        Dictionary(values.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

public typealias LockInventory = InventoryTable<Lock>
public typealias SpaceInventory = InventoryTable<Space>

extension Lock: Identifiable {}
extension Space: Identifiable {}
