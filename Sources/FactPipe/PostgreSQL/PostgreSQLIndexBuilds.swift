import Dispatch
import Synchronization

/// Index builds on connections of their own, side by side: the `CREATE INDEX`es of one table take
/// locks that do not conflict with each other (nor with readers), so the server builds them at once,
/// on as many cores as it has, instead of one after the other.
///
/// Each build is one transaction of its own (its lock, its memory setting and the `CREATE INDEX`): a load
/// killed meanwhile leaves each index either built whole or not at all, and the next load builds what is
/// missing.
final class PostgreSQLIndexBuilds: Sendable {
    private let group = DispatchGroup()
    private let failure = Mutex<PostgreSQLError?>(nil)

    /// Starts each of `statements` on a connection of its own to `address`.
    init(_ statements: [String], address: PostgreSQLAddress) {
        for sql in statements {
            group.enter()
            // Refused a thread, the build runs here: one after another, still each whole or not at all.
            OwnThread.startOrRunHere("index build") { [self] in
                defer { group.leave() }
                do throws(PostgreSQLError) {
                    let connection = try PostgreSQLConnection(address: address, applicationName: "factpipe import")
                    // While the build runs, also when this process is killed and the server goes on with it: the
                    // next writer waits for it (`PostgreSQLWriterLock`) instead of failing on the same index, made
                    // meanwhile ("duplicate key value … pg_class_relname_nsp_index"). The lock is the build's
                    // transaction's (one query string, so one server process even through a pooler): it goes
                    // when the build ends. A session lock let go in a statement of its own went, through a pooler
                    // in transaction mode, to another server process and stayed held until the pooler closed the
                    // first (a load waited 10 minutes for its own builds). An index build sorts the whole table:
                    // the server's memory for it, not the default 64 MB, and no `statement_timeout` of the role's
                    // (`PostgreSQLSchema.noStatementTimeout`).
                    // The timeout is set aside in a statement of its own, before the lock's wait: each statement of
                    // the string is timed on its own (PostgreSQL 13 and later).
                    try connection.executeScript(
                        "SELECT pg_catalog.set_config('statement_timeout', '0', true); "
                            + "SELECT pg_catalog.pg_advisory_xact_lock_shared(\(PostgreSQLSchema.indexBuildsLockKey)), "
                            + "pg_catalog.set_config('maintenance_work_mem', '256MB', true); " + sql)
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
    }

    /// Waits for every build; throws the first failure.
    func wait() throws(PostgreSQLError) {
        group.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
