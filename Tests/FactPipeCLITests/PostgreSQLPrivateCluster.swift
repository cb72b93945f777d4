import Foundation
import Testing

/// A PostgreSQL cluster of one test's own (`scripts/postgres-cluster.sh start`: `initdb` into a temporary
/// folder, a free port of 127.0.0.1), for a test that stops and starts its server, so the shared test
/// server stays up for the other suites. Stopped and removed when released.
final class PostgreSQLPrivateCluster {
    /// Its maintenance database, as `postgresql://postgres@127.0.0.1:PORT/postgres`.
    let url: String
    private let folder: String
    private static let script = packageRootURL().appendingPathComponent("scripts/postgres-cluster.sh").path

    /// Starts one with `settings` (`name=value`) on top of the script's; `ssl=on` also makes its certificate.
    init(settings: [String] = []) throws {
        let run = try Factpipe.tool("/bin/bash", [Self.script, "start"] + settings)
        var values: [String: String] = [:]
        for line in run.stdoutText.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        url = try #require(values["url"], "\(run.stdoutText) \(run.stderr)")
        folder = try #require(values["folder"], "\(run.stdoutText) \(run.stderr)")
    }

    deinit {
        _ = try? Factpipe.tool("/bin/bash", [Self.script, "remove", folder])
    }

    /// The server's self-signed certificate, when it was started with `ssl=on`: the root a client that
    /// verifies the server needs.
    var certificate: String { folder + "/server.crt" }

    /// `url` for `database`, with `user[:password]` in place of `postgres`.
    func url(database: String, user: String = "postgres") -> String {
        let slash = url.range(of: "/", options: .backwards).map { url[..<$0.lowerBound] } ?? url[...]
        return String(slash).replacingOccurrences(of: "://postgres@", with: "://\(user)@") + "/" + database
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`): every connection is cut, as in a crash.
    func stopServer() throws {
        try Factpipe.tool("/bin/bash", [Self.script, "stop-server", folder])
    }

    /// Starts the stopped server again, on the same port (it recovers from its write-ahead log).
    func startServer() throws {
        try Factpipe.tool("/bin/bash", [Self.script, "start-server", folder])
    }

    /// Runs `sql` in `database` as `PostgreSQLTestDatabase.sql` does.
    @discardableResult
    func sql(_ sql: String, database: String = "postgres") throws -> [[String]] {
        try PostgreSQLTestDatabase.psql(url(database: database), sql)
    }
}
