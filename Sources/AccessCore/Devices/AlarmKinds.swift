import AccessProtocol

/// The alarm kinds open on one device, as bits: a `Set<Alarm.Kind>` allocates its storage once
/// it holds one kind, and a site of 100k locks that all go offline would hold 100k of them.
public struct AlarmKinds: Sendable, Hashable, ExpressibleByArrayLiteral {
    private var bits: UInt16 = 0

    public init() {}

    public init(arrayLiteral kinds: Alarm.Kind...) {
        for kind in kinds { insert(kind) }
    }

    public var isEmpty: Bool { bits == 0 }

    public func contains(_ kind: Alarm.Kind) -> Bool { bits & Self.bit(kind) != 0 }

    public mutating func insert(_ kind: Alarm.Kind) { bits |= Self.bit(kind) }

    /// The kind, if it was open (as `Set.remove` answers).
    @discardableResult
    public mutating func remove(_ kind: Alarm.Kind) -> Alarm.Kind? {
        guard contains(kind) else { return nil }
        bits &= ~Self.bit(kind)
        return kind
    }

    /// The open kinds, in the order of their names (as live state and the status page list them).
    public var sorted: [Alarm.Kind] {
        Alarm.Kind.allCases.filter(contains).sorted { $0.rawValue < $1.rawValue }
    }

    public var asSet: Set<Alarm.Kind> { Set(Alarm.Kind.allCases.filter(contains)) }

    private static func bit(_ kind: Alarm.Kind) -> UInt16 {
        switch kind {
        case .doorForced: 1 << 0
        case .doorAjar: 1 << 1
        case .lockOffline: 1 << 2
        case .lowBattery: 1 << 3
        case .tamper: 1 << 4
        case .jammed: 1 << 5
        case .bruteForce: 1 << 6
        case .overstay: 1 << 7
        case .poleFault: 1 << 8
        case .commandFailed: 1 << 9
        case .auditTruncated: 1 << 10
        }
    }
}
