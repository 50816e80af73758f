/// The few JSON values the wire carries: strings, integers, booleans, nested objects, lists, and the
/// decimals of pole telemetry (never in an audit record, whose canonical form has integers only).
public enum JSONValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case object([(String, JSONValue)])
    /// Live state and alarm lists (never in an audit record).
    case array([JSONValue])
    /// A finite decimal; a non-finite one is written as 0 (JSON has no NaN or infinity).
    case decimal(Double)

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.decimal(let a), .decimal(let b)): a == b
        case (.object(let a), .object(let b)): a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        case (.array(let a), .array(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(CanonicalJSON.serialize(self))
    }
}
