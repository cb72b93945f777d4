import Foundation
import Testing

/// The PostgreSQL server the tests run against: `FACTPIPE_TEST_POSTGRES_URL`, which `scripts/test` sets
/// to a throwaway cluster it starts (scripts/postgres-cluster.sh) and stops at exit.
///
/// Without it the PostgreSQL tests are skipped, with a message, unless `CI=true`: there they run and
/// fail, so a CI job cannot pass without having tested the PostgreSQL store.
enum PostgreSQLTestServer {
    static let environment = ProcessInfo.processInfo.environment
    /// The server's maintenance database, where each test creates its own.
    static let url = environment["FACTPIPE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let isCI = environment["CI"] == "true"

    /// True when the PostgreSQL tests run; prints once why they are skipped when they are not.
    static let isEnabled: Bool = {
        if url == nil && !isCI {
            print("◇ PostgreSQL tests skipped: FACTPIPE_TEST_POSTGRES_URL is not set "
                + "(scripts/test starts a throwaway PostgreSQL server and sets it)")
        }
        return url != nil || isCI
    }()

    static let skipReason: Comment = "no PostgreSQL server: FACTPIPE_TEST_POSTGRES_URL is not set (scripts/test sets it)"

    static let psql = "/usr/bin/psql"
}

/// A database of its own on the test server, dropped when released.
final class PostgreSQLTestDatabase {
    let name: String
    /// The URL factpipe is given.
    let url: String
    private let maintenanceURL: String

    init() throws {
        maintenanceURL = try #require(
            PostgreSQLTestServer.url,
            "CI=true, so the PostgreSQL tests must run, but FACTPIPE_TEST_POSTGRES_URL is not set: run scripts/test")
        name = "factpipe_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let slash = try #require(maintenanceURL.range(of: "/", options: .backwards))
        url = String(maintenanceURL[..<slash.lowerBound]) + "/" + name
        try Self.psql(maintenanceURL, "CREATE DATABASE \(name) ENCODING 'UTF8' TEMPLATE template0")
    }

    deinit {
        _ = try? Self.psql(maintenanceURL, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// `url` with its host:port part and a database name (for a URL that should fail, say).
    var hostAndPort: String {
        let afterScheme = url.components(separatedBy: "@").last ?? ""
        return afterScheme.components(separatedBy: "/").first ?? ""
    }

    /// Runs `sql` in this database; rows are separated by U+001E and columns by U+001F (values may hold
    /// newlines).
    @discardableResult
    func sql(_ sql: String) throws -> [[String]] {
        try Self.psql(url, sql)
    }

    /// The first column of the first row as an integer.
    func int(_ query: String) throws -> Int {
        let rows = try sql(query)
        return try #require(rows.first?.first.flatMap { Int($0) }, "\(query): \(rows)")
    }

    @discardableResult
    static func psql(_ url: String, _ sql: String) throws -> [[String]] {
        let run = try Factpipe.tool(
            PostgreSQLTestServer.psql,
            ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-F", "\u{1F}", "-R", "\u{1E}", url, "-c", sql])
        var text = run.stdoutText
        if text.hasSuffix("\n") { text.removeLast() }
        if text.isEmpty { return [] }
        return text.components(separatedBy: "\u{1E}").map { $0.components(separatedBy: "\u{1F}") }
    }
}

extension PostgreSQLTestDatabase {
    /// Writes `text` to `name` in `work` and imports it into this database (which gets factpipe's schema
    /// that way); returns the file's path. The import must succeed.
    @discardableResult
    func seed(_ text: String, in work: CLIWorkspace, name: String = "seed.txt") throws -> String {
        let file = try work.write(name, text)
        let run = try Factpipe.run(["import", file, "--db", url, "-q"])
        try #require(run.status == 0, "\(run.stderr)")
        return file
    }
}

extension PostgreSQLTestDatabase {
    /// The test server's role that must give a password (`scripts/test` makes the cluster ask it one), made
    /// when missing with the password `right`; the wrong-password and `~/.pgpass` tests share it.
    func passwordRole() throws -> String {
        let role = try #require(PostgreSQLTestServer.environment["FACTPIPE_TEST_POSTGRES_PASSWORD_ROLE"],
                                "scripts/test sets FACTPIPE_TEST_POSTGRES_PASSWORD_ROLE")
        try sql("""
            DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(role)') THEN
            CREATE ROLE \(role) LOGIN PASSWORD 'right'; END IF; END $$
            """)
        return role
    }
}

extension PostgreSQLTestDatabase {
    /// Starts `import` of `facts` generated facts (`seed`, and `generating` for the generator) into this
    /// database with `arguments`, and kills it with SIGKILL once 3,000 records are committed; doubles the
    /// input and tries again, up to three times, when the load finished first. Each attempt starts from
    /// an empty schema, then `prepare`. Returns the input and the records committed.
    func killedLoad(
        _ work: CLIWorkspace, facts: Int = 40_000, seed: Int, generating: [String] = [], arguments: [String] = [],
        prepare: () throws -> Void = {}
    ) throws -> (input: String, committed: Int) {
        var count = facts
        for attempt in 1...3 {
            let input = work.path("facts-\(count).ndjson")
            let generate = try Factpipe.run(["generate", "--facts", "\(count)", "--seed", "\(seed)", "--invalid-rate",
                                             "0.01", "-o", input, "-q"] + generating)
            try #require(generate.status == 0, "\(generate.stderr)")
            try sql("DROP TABLE IF EXISTS facts, factpipe_loads, factpipe_meta, factpipe_assertions, "
                + "factpipe_direct_staging; DROP FUNCTION IF EXISTS factpipe_statement_key(text)")
            try prepare()
            let load = try BackgroundProcess(BinaryLocator.factpipe, ["import", input, "--db", url, "-q"] + arguments)
            poll(timeout: 60) {
                !load.isRunning || ((try? int(
                    "SELECT coalesce(max(records), 0) FROM factpipe_loads WHERE status = 'running'")) ?? 0) >= 3_000
            }
            load.killNine()
            try load.wait()
            if load.wasKilled {
                return (input, try int("SELECT max(records) FROM factpipe_loads"))
            }
            Issue.record("attempt \(attempt): the load of \(count) facts finished before the kill; trying with more")
            count *= 2
        }
        Issue.record("every load finished before it could be killed")
        return ("", 0)
    }
}

extension PostgreSQLTestDatabase {
    /// How many locks of this database match `condition` (`pg_locks` lists the whole cluster's, and other
    /// tests' loads hold locks in theirs).
    func locks(_ condition: String) throws -> Int {
        try int("SELECT count(*) FROM pg_locks WHERE database = "
            + "(SELECT oid FROM pg_database WHERE datname = current_database()) AND \(condition)")
    }

    /// A login role of the test's own on the test server, with the grants `sql` gives it in this database;
    /// runs `body` with its URL, then drops the role.
    func withRole(granted sql: (String) -> String, _ body: (String) throws -> Void) throws {
        let role = "factpipe_role_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        let maintenance = try #require(PostgreSQLTestServer.url)
        try Self.psql(maintenance, "CREATE ROLE \(role) LOGIN")
        defer {
            _ = try? self.sql("DROP OWNED BY \(role)")
            _ = try? Self.psql(maintenance, "DROP ROLE \(role)")
        }
        let grants = sql(role)
        if !grants.isEmpty { try self.sql(grants) }
        try body("postgresql://\(role)@\(hostAndPort)/\(name)")
    }
}
