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
        if let group = broker.sharedGroup {
            warnings.append(
                "broker.sharedGroup \(group): a broker that does not check subscriptions against its ACL "
                    + "(mosquitto 2.0's acl_file checks only delivery) lets any device join $share/\(group)/… "
                    + "and take a share of every lock's requests, which then go unanswered; use it only on a "
                    + "broker that refuses such subscriptions (docs/security.md)")
        }
        return warnings
    }

    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
