extension GatewayConfiguration {
    /// What is allowed but unsafe: `--check-config` prints each, and the daemon logs each at start.
    public var safetyWarnings: [String] {
        var warnings: [String] = []
        if broker.caFile == nil, !Self.isLoopback(broker.host) {
            warnings.append(
                "broker.host \(broker.host) is not loopback and broker.tls is not set: PINs, tokens, "
                    + "credentials and unlock commands would cross the network in clear")
        }
        if let listen = httpListen, !Self.isLoopback(listen.host) {
            warnings.append(
                "http.listen \(listen.host):\(listen.port) is not loopback: /healthz and /metrics (lock ids, "
                    + "alarm counts) would be open to the network; put them behind a proxy or a firewall")
        }
        return warnings
    }

    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
