// swift-tools-version:6.1
import PackageDescription

// Module map of the project (see docs/architecture.md):
//   CMosquitto   system library: libmosquitto's C API, module map and shim header only
//   MQTT         Swift MQTT v5 client over libmosquitto (network loop, reconnect, typed errors)
//   MQTTTesting  test support: a real mosquitto broker on a free loopback port, test certificates
//   AccessCore   pure access logic: domain types, request/booking parsing, token rules, decision rules,
//                lockout and rate limit, PINs, device keys, command MACs, audit records and chain
//   AccessStore  GRDB/SQLite store: inventory, reservations, booking sync and import, audit log with
//                group commit, and the AccessEngine that runs a request through the rules to a command
//   AccessGateway the daemon's services: configuration, MQTT pipeline, devices and alarms, HTTP, systemd
//   access-gateway the daemon (one ServiceGroup)
//   AccessTesting test support: temporary stores, a test site with keys, token minting
//   accessctl    operator CLI: keys, reservations, tokens, PINs, audit, devices, db, remote unlock
//   store-bench  (Benchmarks/) store lookup cost at 10k/1M reservations and bulk import throughput
//   mqtt-roundtrip (simulators/) request/reply latency through a broker: the floor of every decision
//   gateway-bench (Benchmarks/) the gateway against that floor: closed loop, open loop, saturation, RSS
// Later issues add the simulators, each as its own target.
let package = Package(
    name: "access-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MQTT", targets: ["MQTT"]),
        .library(name: "MQTTTesting", targets: ["MQTTTesting"]),
        .executable(name: "mqtt-roundtrip", targets: ["mqtt-roundtrip"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "YAML"]),
    ],
    targets: [
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        .target(
            name: "MQTT",
            dependencies: [
                "CMosquitto",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "AccessCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "AccessStore",
            dependencies: [
                "AccessCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "AccessGateway",
            dependencies: [
                "AccessCore", "AccessStore", "MQTT",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "access-gateway",
            dependencies: [
                "AccessGateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "AccessTesting",
            dependencies: [
                "AccessCore", "AccessStore", "MQTTTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "accessctl",
            dependencies: [
                "AccessCore", "AccessStore", "AccessGateway", "MQTT",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "store-bench",
            dependencies: [
                "AccessCore", "AccessStore", "AccessTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/store-bench"
        ),
        .executableTarget(
            name: "gateway-bench",
            dependencies: [
                "AccessCore", "AccessStore", "MQTT", "MQTTTesting", "Simulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/gateway-bench"
        ),
        .target(
            name: "MQTTTesting",
            dependencies: ["MQTT"]
        ),
        .target(
            name: "Simulation",
            dependencies: [
                "AccessCore", "MQTT", "MQTTTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "simulators/Simulation"
        ),
        .executableTarget(
            name: "scenario",
            dependencies: [
                "Simulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "simulators/scenario"
        ),
        .executableTarget(
            name: "lock-sim",
            dependencies: [
                "Simulation", "AccessCore", "MQTT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "simulators/lock-sim"
        ),
        .executableTarget(
            name: "pole-sim",
            dependencies: [
                "Simulation", "AccessCore", "MQTT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "simulators/pole-sim"
        ),
        .executableTarget(
            name: "booking-sim",
            dependencies: [
                "Simulation", "AccessCore", "MQTT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "simulators/booking-sim"
        ),
        .executableTarget(
            name: "mqtt-roundtrip",
            dependencies: [
                "MQTT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "simulators/mqtt-roundtrip"
        ),
        .testTarget(
            name: "MQTTTests",
            dependencies: ["MQTT", "MQTTTesting"]
        ),
        .testTarget(
            name: "AccessCoreTests",
            dependencies: ["AccessCore", "AccessTesting", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "AccessGatewayTests",
            dependencies: [
                "AccessCore", "AccessGateway", "Simulation", "AccessStore", "AccessTesting", "MQTT", "MQTTTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "AccessStoreTests",
            dependencies: [
                "AccessCore", "AccessStore", "AccessTesting", "MQTTTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
