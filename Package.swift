// swift-tools-version:6.1
import PackageDescription

// Linux only (Debian 12 tested): the library calls Glibc directly.
let package = Package(
    name: "factpipe",
    products: [
        .library(name: "FactPipe", targets: ["FactPipe"]),
        .executable(name: "factpipe", targets: ["FactPipeCLI"]),
        .executable(name: "factpipe-fuzz", targets: ["FactPipeFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The monitor's HTTP/1 server (NIOPosix + NIOHTTP1); see docs/monitor.md.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // PostgreSQL's own client library, used only by Sources/FactPipe/PostgreSQL/.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .target(
            name: "FactPipe",
            dependencies: ["CSQLite", "CZstd", "CZlib", "CCrypto", "CLibPQ"]
        ),
        .target(
            name: "FactPipeMonitorServer",
            dependencies: [
                "FactPipe",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "FactPipeCLI",
            dependencies: [
                "FactPipe",
                "FactPipeMonitorServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "FactPipeFuzz",
            dependencies: ["FactPipe"]
        ),
        // What both test targets share: the one SQLite reader, Prometheus parser, SHA-256 and poll.
        .target(
            name: "FactPipeTestSupport",
            dependencies: ["CSQLite"],
            path: "Tests/FactPipeTestSupport"
        ),
        .testTarget(
            name: "FactPipeTests",
            dependencies: ["FactPipe", "CSQLite", "FactPipeTestSupport"]
        ),
        .testTarget(
            name: "FactPipeCLITests",
            dependencies: ["FactPipe", "FactPipeCLI", "FactPipeTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
