// swift-tools-version:6.1
import PackageDescription

// Module map of the project (see docs/architecture.md):
//   CMosquitto   system library: libmosquitto's C API, module map and shim header only
//   MQTT         Swift MQTT v5 client over libmosquitto (network loop, reconnect, typed errors)
//   MQTTTesting  test support: a real mosquitto broker on a free loopback port, test certificates
//   AccessProtocol the wire contract, the one home of every topic and payload: topics, the identifier
//                rule, codecs for requests, decisions, commands, events, status, telemetry, bookings,
//                alarms, the audit head, gateway status and the operator extension
//   AccessCore   pure access rules: inventory, token rules, decision rules, lockout and rate limit,
//                PINs, device keys, the device monitor, audit records and chain
//   AccessStore  GRDB/SQLite persistence: inventory, reservations, booking sync and import, device
//                state, the audit log with group commit
//   AccessEngine a request's path: rules, audit commit, signed command
//   AccessConfiguration the gateway's configuration file (shared with accessctl)
//   AccessGateway the daemon as small Services: requests, bookings, device reports, operator,
//                maintenance, HTTP, each with its own bounded lane
//   AccessGatewayTesting the gateway in-process: temporary store, recording publisher, quiet logger
//   access-gateway the daemon (one ServiceGroup)
//   AccessTesting test support: temporary stores, a test site with keys, token minting
//   accessctl    operator CLI: keys, reservations, tokens, PINs, audit, devices, db, remote unlock
//   store-bench  (Benchmarks/) store lookup cost at 10k/1M reservations and bulk import throughput
//   mqtt-roundtrip (simulators/) request/reply latency through a broker: the floor of every decision
//   gateway-bench (Benchmarks/) the gateway against that floor: closed loop, open loop, saturation, RSS
//   flood-bench  (Benchmarks/) one lock floods; bookings, another lock, memory and /healthz must hold
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
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
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
            name: "AccessProtocol",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "AccessCore",
            dependencies: ["AccessProtocol", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "AccessStore",
            dependencies: [
                "AccessCore", "AccessProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for a decision's lookups (`RawStatement`).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // The shared store several gateways of a site use (issue 19): PostgreSQL via postgres-nio.
        .target(
            name: "AccessSharedStore",
            dependencies: [
                "AccessConfiguration", "AccessCore", "AccessEngine", "AccessProtocol", "AccessStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .target(
            name: "AccessEngine",
            dependencies: [
                "AccessCore", "AccessProtocol", "AccessStore",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "AccessConfiguration",
            dependencies: [
                "AccessCore", "AccessProtocol", "AccessStore", "MQTT",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "AccessGateway",
            dependencies: [
                "AccessSharedStore",
                "AccessConfiguration", "AccessCore", "AccessEngine", "AccessProtocol", "AccessStore", "MQTT",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "AccessGatewayTesting",
            dependencies: [
                "AccessConfiguration", "AccessCore", "AccessEngine", "AccessGateway", "AccessProtocol", "AccessStore",
                "AccessTesting", "MQTT", "MQTTTesting",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "access-gateway",
            dependencies: [
                "AccessConfiguration", "AccessGateway", "AccessProtocol", "AccessStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "AccessTesting",
            dependencies: [
                "AccessCore", "AccessEngine", "AccessProtocol", "AccessStore", "MQTTTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "accessctl",
            dependencies: [
                "AccessConfiguration", "AccessCore", "AccessProtocol", "AccessSharedStore", "AccessStore", "MQTT",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "store-bench",
            dependencies: [
                "AccessCore", "AccessEngine", "AccessProtocol", "AccessStore", "AccessTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/store-bench"
        ),
        // The floors of gateway-bench in C on libmosquitto (issue 20): an echo, and an ideal
        // gateway that journals with one fdatasync per batch before it answers.
        .executableTarget(
            name: "c-mqtt-echo", path: "Benchmarks/c-mqtt-echo",
            linkerSettings: [.linkedLibrary("mosquitto")]
        ),
        .executableTarget(
            name: "c-ideal-gateway", path: "Benchmarks/c-ideal-gateway",
            linkerSettings: [.linkedLibrary("mosquitto"), .linkedLibrary("pthread")]
        ),
        .executableTarget(
            name: "gateway-bench",
            dependencies: [
                "AccessCore", "AccessProtocol", "AccessSharedStore", "AccessStore", "MQTT", "MQTTTesting",
                "Simulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/gateway-bench"
        ),
        .executableTarget(
            name: "flood-bench",
            dependencies: [
                "AccessCore", "AccessProtocol", "MQTT", "MQTTTesting", "Simulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/flood-bench"
        ),
        .target(
            name: "MQTTTesting",
            dependencies: [
                "MQTT",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Simulation",
            dependencies: [
                "AccessCore", "AccessProtocol", "MQTT", "MQTTTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "simulators/Simulation"
        ),
        .executableTarget(
            name: "scenario",
            dependencies: [
                "Simulation", "AccessProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "simulators/scenario"
        ),
        .executableTarget(
            name: "lock-sim",
            dependencies: [
                "Simulation", "AccessCore", "AccessProtocol", "MQTT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "simulators/lock-sim"
        ),
        .executableTarget(
            name: "pole-sim",
            dependencies: [
                "Simulation", "AccessCore", "AccessProtocol", "MQTT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "simulators/pole-sim"
        ),
        .executableTarget(
            name: "booking-sim",
            dependencies: [
                "Simulation", "AccessCore", "AccessProtocol", "MQTT", "MQTTTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "simulators/booking-sim"
        ),
        .executableTarget(
            name: "mqtt-roundtrip",
            dependencies: [
                "MQTT", "AccessProtocol", "Simulation",
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
            dependencies: [
                "AccessCore", "AccessProtocol", "AccessTesting", "MQTTTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "AccessGatewayTests",
            dependencies: [
                "AccessConfiguration", "AccessCore", "AccessEngine", "AccessGateway", "AccessGatewayTesting",
                "AccessProtocol", "AccessStore", "AccessTesting", "MQTT", "MQTTTesting", "Simulation",
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "AccessStoreTests",
            dependencies: [
                "AccessCore", "AccessEngine", "AccessProtocol", "AccessStore", "AccessTesting", "MQTTTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "AccessSharedStoreTests",
            dependencies: [
                "AccessCore", "AccessEngine", "AccessProtocol", "AccessSharedStore", "AccessStore", "AccessTesting",
                "MQTTTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
