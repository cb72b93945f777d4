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
        let deadline = ContinuousClock.now + .wait(seconds: timeoutSeconds)
        let key = "\(PostgreSQLSchema.writerLockKey)"
        while try !connection.execute("SELECT pg_try_advisory_lock($1::bigint)", [key]).bool(0, 0) {
            if isCancelled() {
                throw PostgreSQLError(
                    server: connection.server,
                    message: "interrupted while waiting for another load to finish (\(try holder(connection)))")
            }
            guard ContinuousClock.now < deadline else {
                throw PostgreSQLError(
                    server: connection.server,
                    message: "another load is writing to this database (\(try holder(connection))); "
                        + "waited \(Duration.wait(seconds: timeoutSeconds).components.seconds) s")
            }
            usleep(50_000)
        }
        connection.holdsWriterLock = true
    }

    /// Takes the lock on `connection` if no load holds it, without waiting; false when one does.
    /// - Throws: `PostgreSQLError` for the server's error.
    static func takeIfFree(on connection: PostgreSQLConnection) throws(PostgreSQLError) -> Bool {
        let taken = try connection.execute(
            "SELECT pg_try_advisory_lock($1::bigint)", ["\(PostgreSQLSchema.writerLockKey)"]
        ).bool(0, 0)
        if taken { connection.holdsWriterLock = true }
        return taken
    }

    /// Who holds the lock, as far as this session may see.
    static func holder(_ connection: PostgreSQLConnection) throws(PostgreSQLError) -> String {
        let result = try connection.execute("""
            SELECT a.pid, a.application_name, coalesce(host(a.client_addr), 'local'), a.backend_start
            FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database
                WHERE datname = current_database())
            AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint
            """, ["\(PostgreSQLSchema.writerLockKey)"])
        guard result.rowCount > 0 else { return "holder unknown" }
        return "server process \(result.text(0, 0) ?? "?"), \(result.text(0, 1) ?? ""), from \(result.text(0, 2) ?? "?")"
    }
}
