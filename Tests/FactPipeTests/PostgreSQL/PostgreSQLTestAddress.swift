import Foundation
import Testing

@testable import FactPipe

/// The PostgreSQL server the library's tests run against: `FACTPIPE_TEST_POSTGRES_URL`, which
/// `scripts/test` sets to a throwaway cluster. Without it the suites are skipped with a message, unless
/// `CI=true`: there they run and fail, so CI cannot pass without having tested the store.
enum PostgreSQLTestAddress {
    static let url = ProcessInfo.processInfo.environment["FACTPIPE_TEST_POSTGRES_URL"]
    static let isEnabled = url != nil || ProcessInfo.processInfo.environment["CI"] == "true"
    static let skipReason: Comment = "no PostgreSQL server: FACTPIPE_TEST_POSTGRES_URL is not set (scripts/test sets it)"

    /// The server's address, or a failed requirement under `CI=true` without one.
    static func server(sourceLocation: SourceLocation = #_sourceLocation) throws -> PostgreSQLAddress {
        let url = try #require(url, "CI=true, so this test must run: run scripts/test", sourceLocation: sourceLocation)
        return try #require(PostgreSQLAddress(url), sourceLocation: sourceLocation)
    }

    /// The address of the database `name` on the same server.
    static func database(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> PostgreSQLAddress {
        let url = try #require(url, "CI=true, so this test must run: run scripts/test", sourceLocation: sourceLocation)
        let slash = try #require(url.range(of: "/", options: .backwards), sourceLocation: sourceLocation)
        return try #require(PostgreSQLAddress(String(url[..<slash.lowerBound]) + "/" + name), sourceLocation: sourceLocation)
    }

    /// A database of its own on the test server, named `prefix` and a random suffix, for one test; the
    /// caller defers `drop`, which removes it (its sessions ended with it).
    static func scratchDatabase(
        _ prefix: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (address: PostgreSQLAddress, drop: () -> Void) {
        let maintenance = try PostgreSQLConnection(address: try server(sourceLocation: sourceLocation))
        let name = prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        _ = try maintenance.execute("CREATE DATABASE \(name) ENCODING 'UTF8' TEMPLATE template0")
        let address = try database(name, sourceLocation: sourceLocation)
        return (address, { _ = try? maintenance.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") })
    }
}
