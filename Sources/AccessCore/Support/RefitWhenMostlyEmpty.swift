// A dictionary or set keeps its buckets when its elements are removed: one that held 100k locks
// for a moment holds their memory for good. State that follows the locks in use (admission
// state, refusal windows, live state's pending changes) is copied into a fitting one instead,
// once it is mostly empty; the copy is of the few elements left.

/// Below this many buckets a table is not worth refitting.
private let refitFloor = 1024

extension Dictionary {
    /// Copies the elements into a fitting dictionary when it has more than 4 times the buckets
    /// its elements (or `refitFloor`) need.
    public mutating func refitWhenMostlyEmpty() {
        guard capacity > 4 * Swift.max(count, refitFloor) else { return }
        var fitted = Self(minimumCapacity: count)
        for (key, value) in self { fitted[key] = value }
        self = fitted
    }
}

extension Set {
    /// Copies the elements into a fitting set when it has more than 4 times the buckets its
    /// elements (or `refitFloor`) need.
    public mutating func refitWhenMostlyEmpty() {
        guard capacity > 4 * Swift.max(count, refitFloor) else { return }
        var fitted = Self(minimumCapacity: count)
        for element in self { fitted.insert(element) }
        self = fitted
    }
}
