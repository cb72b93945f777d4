#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One load at a time per PostgreSQL database: a session advisory lock, so it holds across hosts, and the
/// server drops it when the holder's connection ends, even after `kill -9`. Readers never take it.
enum PostgreSQLWriterLock {
    /// Takes the lock on `connection`, waiting up to `timeoutSeconds` for another load to finish, and less
    /// once `isCancelled` says so (asked every 50 ms while waiting).
    /// - Throws: `PostgreSQLError` naming the holder (its process id, application and address) when the
    ///   wait runs out or is cancelled, or the server's error.
    static func take(
        on connection: PostgreSQLConnection, timeoutSeconds: Double, isCancelled: () -> Bool
    ) throws(PostgreSQLError) {
        guard !connection.holdsWriterLock else { return }
        let deadline = ContinuousClock.now + .wait(seconds: timeoutSeconds)
        while try !tryLock(connection) {
            if isCancelled() {
                let holder = try holder(connection)
                throw PostgreSQLError(
                    server: connection.server,
                    message: "interrupted while waiting for \(WriterLock.noun(holder: holder)) to finish (\(holder))",
                    wasInterrupted: true)
            }
            guard ContinuousClock.now < deadline else {
                let holder = try holder(connection)
                throw PostgreSQLError(
                    server: connection.server,
                    message: "\(WriterLock.noun(holder: holder)) is writing to this database (\(holder)); "
                        + "waited \(Duration.wait(seconds: timeoutSeconds).saidInSeconds) s")
            }
            usleep(50_000)
        }
        // The index builds of a load killed while the server ran them go on without it: wait for them too.
        while try !noIndexBuildRuns(connection) {
            if isCancelled() {
                throw PostgreSQLError(
                    server: connection.server,
                    message: "interrupted while waiting for the index builds of a stopped load to finish "
                        + "(\(try holder(connection, key: PostgreSQLSchema.indexBuildsLockKey)))",
                    wasInterrupted: true)
            }
            guard ContinuousClock.now < deadline else {
                throw PostgreSQLError(
                    server: connection.server,
                    message: "the server still builds indexes for a load that stopped "
                        + "(\(try holder(connection, key: PostgreSQLSchema.indexBuildsLockKey))); "
                        + "waited \(Duration.wait(seconds: timeoutSeconds).saidInSeconds) s")
            }
            usleep(50_000)
        }
    }

    /// Bounds every later lock wait of the writer's session to `seconds` (one at least), unless the role or the
    /// database sets a `lock_timeout` of its own. A load behind another session's lock on `facts` (`LOCK
    /// TABLE`, `ALTER TABLE`, `CREATE INDEX`, `VACUUM FULL`, in a transaction left open) waited without a word
    /// for as long as that session kept it: a nightly load that never ended. It fails once `--wait` has
    /// passed now (SQLSTATE 55P03, which `PostgreSQLConnection` explains), and `--resume` goes on.
    /// - Throws: `PostgreSQLError` for the server's error.
    static func boundLockWaits(on connection: PostgreSQLConnection, seconds: Double) throws(PostgreSQLError) {
        // `lock_timeout` is a number of milliseconds that fits in 31 bits (24 days).
        let milliseconds = Int(max(1_000, min(seconds * 1_000, 2_000_000_000)))
        try connection.execute("""
            SELECT CASE WHEN pg_catalog.current_setting('lock_timeout') = '0'
            THEN pg_catalog.set_config('lock_timeout', $1, false) END
            """, ["\(milliseconds)ms"])
    }

    /// Takes the lock on `connection` if no load holds it (and no index build of a stopped load runs),
    /// without waiting; false when one does.
    /// - Throws: `PostgreSQLError` for the server's error.
    static func takeIfFree(on connection: PostgreSQLConnection) throws(PostgreSQLError) -> Bool {
        guard !connection.holdsWriterLock else { return true }
        // The builds first: only a writer starts one, so none starts before the lock is taken below, and the
        // lock is never let go again (through a pooler in transaction mode, the unlock could run elsewhere).
        guard try noIndexBuildRuns(connection) else { return false }
        return try tryLock(connection)
    }

    /// Takes the lock if no session holds it, and records the server process that took it. A session lock is
    /// taken again by the session that holds it: through a pooler in transaction mode that is any client's
    /// session, so a server process that holds it already counts as another load's (a second load was let in).
    private static func tryLock(_ connection: PostgreSQLConnection) throws(PostgreSQLError) -> Bool {
        let result = try connection.execute("""
            SELECT CASE WHEN EXISTS (
                SELECT 1 FROM pg_catalog.pg_locks AS l WHERE l.locktype = 'advisory' AND l.granted
                AND l.pid = pg_catalog.pg_backend_pid()
                AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
                AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint)
            THEN false ELSE pg_catalog.pg_try_advisory_lock($1::bigint) END, pg_catalog.pg_backend_pid()
            """, ["\(PostgreSQLSchema.writerLockKey)"])
        guard result.bool(0, 0) else { return false }
        connection.writerLockBackend = result.int64(0, 1)
        return true
    }

    /// True when no connection holds the index builds' lock: it is taken for the statement's transaction
    /// alone, so it goes with it, in whichever server process ran it (taken and let go in two statements,
    /// through a pooler in transaction mode the second could run in another process and leave it held).
    private static func noIndexBuildRuns(_ connection: PostgreSQLConnection) throws(PostgreSQLError) -> Bool {
        try connection.execute(
            "SELECT pg_catalog.pg_try_advisory_xact_lock($1::bigint)", ["\(PostgreSQLSchema.indexBuildsLockKey)"]
        ).bool(0, 0)
    }

    /// Who holds the lock (or, with `key`, another of factpipe's advisory locks), as far as this session may
    /// see; for the writer lock, the index builds a stopped load left running when no load holds it.
    static func holder(
        _ connection: PostgreSQLConnection, key: Int64 = PostgreSQLSchema.writerLockKey
    ) throws(PostgreSQLError) -> String {
        let result = try connection.execute("""
            SELECT a.pid, a.application_name, coalesce(host(a.client_addr), 'local'), a.backend_start
            FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database
                WHERE datname = current_database())
            AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint
            """, ["\(key)"])
        guard result.rowCount > 0 else {
            guard key == PostgreSQLSchema.writerLockKey else { return "holder unknown" }
            let builds = try holder(connection, key: PostgreSQLSchema.indexBuildsLockKey)
            return builds == "holder unknown" ? builds : "index builds of a stopped load: " + builds
        }
        return (0..<result.rowCount).map { row in
            "server process \(result.text(row, 0) ?? "?"), \(result.text(row, 1) ?? ""), from \(result.text(row, 2) ?? "?")"
        }.joined(separator: "; ")
    }
}
