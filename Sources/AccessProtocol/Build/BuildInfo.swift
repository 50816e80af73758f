/// What every binary answers to `--version` and the gateway exports as `access_build_info`.
/// Raised with each release; the contract version is the wire contract this build implements.
public enum BuildInfo {
    public static let version = "0.17.0"
    public static let contract = "1.1"
    /// `--version` text: the product's version and the contract's.
    public static let versionText = "\(version) (contract v\(contract))"
}
