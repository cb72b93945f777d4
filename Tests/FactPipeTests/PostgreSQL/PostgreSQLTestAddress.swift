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
}
