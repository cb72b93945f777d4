// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "factpipe",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "FactPipe", targets: ["FactPipe"]),
        .executable(name: "factpipe", targets: ["FactPipeCLI"]),
        .executable(name: "factpipe-fuzz", targets: ["FactPipeFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]
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
        .target(
            name: "FactPipe",
            dependencies: ["CSQLite", "CZstd", "CZlib", "CCrypto"]
        ),
        .executableTarget(
            name: "FactPipeCLI",
            dependencies: [
                "FactPipe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "FactPipeFuzz",
            dependencies: ["FactPipe"]
        ),
        .testTarget(
            name: "FactPipeTests",
            dependencies: ["FactPipe", "CSQLite"]
        ),
        .testTarget(
            name: "FactPipeCLITests",
            dependencies: ["FactPipe", "FactPipeCLI"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
