import AccessProtocol

/// Alarm thresholds and welcome lighting settings (contract defaults).
public struct AlarmPolicy: Sendable, Hashable {
    /// `door_ajar` after the door has been open this long.
    public var maxOpenS: Int64 = 120
    /// `lock_offline` after no status for this long.
    public var offlineAfterS: Int64 = 180
    /// `low_battery` below this percentage; the episode ends at `lowBatteryPercent + 5` or more.
    public var lowBatteryPercent: Int = 20
    /// `overstay`: someone at a space's poles this long after its last reservation ended.
    public var overstayAfterS: Int64 = 900
    /// A `tamper` episode ends after this long without another tamper report.
    public var tamperQuietS: Int64 = 300
    /// Welcome lighting: ambient light below this many lux is dark.
    public var darknessLux: Double = 10
    public var welcomeLevel: Int = 100
    public var welcomeForS: Int = 300

    public init() {}
}
