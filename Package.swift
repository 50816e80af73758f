// swift-tools-version:6.0
import PackageDescription

// Module map of the project (see docs/architecture.md):
//   CMosquitto   system library: libmosquitto's C API, module map and shim header only
//   MQTT         Swift MQTT v5 client over libmosquitto (network loop, reconnect, typed errors)
//   MQTTTesting  test support: a real mosquitto broker on a free loopback port, test certificates
//   AccessCore   pure access logic (in progress, issue 3): identifiers, device keys, PINs, command MACs
//   mqtt-roundtrip (simulators/) request/reply latency through a broker: the floor of every decision
// Later issues add AccessCore (pure decision logic), AccessStore (GRDB), the access-gateway
// daemon, the accessctl CLI and the simulators, each as its own target.
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
            name: "MQTTTesting",
            dependencies: ["MQTT"]
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
            dependencies: ["AccessCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
