import CLibPQ
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one libpq connection and closes it when released; the only place factpipe talks to PostgreSQL.
///
/// Statements take their values as parameters (`execute(_:_:)`), never spliced into the SQL text, so a
/// statement or value from the input is data. Bulk rows go through `COPY … FROM STDIN` in text format
/// (`beginCopy`, `putCopyData`, `endCopy`). Not thread-safe: one thread uses a connection at a time.
final class PostgreSQLConnection {
    let address: PostgreSQLAddress
    private let handle: OpaquePointer
    /// What the server said outside a result (notices are not printed: they are not for the user).
    private let notices = PostgreSQLNotices()

    /// The server as messages may show it (no password).
    var server: String { address.description }

    /// Connects; libpq applies the `PG*` environment variables and `~/.pgpass` for what the URL leaves
    /// out. Without `connect_timeout` in the URL or `PGCONNECT_TIMEOUT`, a connection attempt gives up
    /// after `defaultConnectTimeoutSeconds`.
    /// - Throws: `PostgreSQLError` with the server and libpq's reason (refused, unknown host, password,
    ///   missing database, …).
    init(address: PostgreSQLAddress, applicationName: String = "factpipe") throws(PostgreSQLError) {
        self.address = address
        var keywords = ["fallback_application_name"]
        var values = [String(applicationName.utf8.prefix(63)) ?? "factpipe"]
        if getenv("PGCONNECT_TIMEOUT") == nil {
            keywords.append("connect_timeout")
            values.append("\(Self.defaultConnectTimeoutSeconds)")
        }
        // A server that went away without a word (a cut network, a host that froze) is found within about a
        // minute of waiting for its answer instead of the kernel's two hours: probes after 30 s of silence,
        // three unanswered end the connection. (No `tcp_user_timeout`: a backend that waits on a lock stops
        // reading a COPY, and a zero window held past it would end a healthy load.) The URL may say otherwise.
        for (keyword, value) in [("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3")] {
            keywords.append(keyword)
            values.append(value)
        }
        // The URL comes last: what it says overrides the defaults above.
        keywords.append("dbname")
        values.append(address.connectionString)
        let connection = Self.withCStrings(keywords) { keywordPointers in
            Self.withCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw PostgreSQLError(server: address.description, message: "cannot connect: out of memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let reason = PostgreSQLError.oneLine(String(cString: PQerrorMessage(connection)))
            PQfinish(connection)
            throw PostgreSQLError(
                server: address.description, message: "cannot connect: \(Self.scrub(reason, address))",
                sqlState: nil)
        }
        // COPY and parameters are UTF-8 and numbers must come back exactly, whatever `PGCLIENTENCODING`,
        // `PGOPTIONS` or the URL set: another encoding would store `é` as `Ã©` (and hash it so), and
        // `extra_float_digits` below 1 rounds a double to 15 digits when it is read back.
        guard PQsetClientEncoding(connection, "UTF8") == 0 else {
            let reason = PostgreSQLError.oneLine(String(cString: PQerrorMessage(connection)))
            PQfinish(connection)
            throw PostgreSQLError(
                server: address.description, message: "cannot use UTF-8 on this connection: \(Self.scrub(reason, address))",
                sqlState: nil)
        }
        handle = connection
        if let cancel = PQgetCancel(connection) {
            Self.cancels.withLock { $0[ObjectIdentifier(self)] = CancelHandle(pointer: cancel) }
        }
        try execute("SET extra_float_digits = 3")
        // factpipe's SQL writes a backslash in a string as itself (a pattern's `\(`): a role or PGOPTIONS with
        // `standard_conforming_strings = off` read it as an escape, and every load was refused ("invalid
        // regular expression").
        try execute("SET standard_conforming_strings = on")
        // Every name factpipe uses (`facts`, `factpipe_loads`, the key function…) in one schema, put first
        // on the path: the one whose `factpipe_meta` the search path finds, else the first schema of the path
        // (where a load makes its tables). Resolved name by name, a `facts` of the role's own schema (`"$user"` comes first by
        // default), or of a schema put first in PGOPTIONS, was taken for factpipe's beside a `factpipe_meta`
        // in `public`: a load wrote its rows and its indexes into that table.
        let home = try execute("""
            SELECT coalesce((SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
            WHERE c.oid = to_regclass('factpipe_meta')), current_schema()), to_regclass('factpipe_meta') IS NOT NULL
            """)
        // No `factpipe_meta` where the path leads, and a schema before the first one usable that this role may
        // not use (no USAGE): the path skips it, so a knowledge base kept there was not found and a load made a
        // second, empty one in the next schema, saying done.
        if !home.bool(0, 1), let hidden = try firstText("""
            WITH path AS (
                SELECT pg_catalog.btrim(pg_catalog.replace(name, '$user', current_user), ' "') AS name, i
                FROM pg_catalog.unnest(pg_catalog.string_to_array(pg_catalog.current_setting('search_path'), ','))
                    WITH ORDINALITY AS p(name, i))
            SELECT n.nspname FROM path JOIN pg_catalog.pg_namespace AS n ON n.nspname = path.name
            WHERE NOT pg_catalog.has_schema_privilege(n.oid, 'USAGE')
            AND path.i < (SELECT min(i) FROM path WHERE name = current_schema())
            ORDER BY path.i LIMIT 1
            """) {
            throw PostgreSQLError(
                server: address.description,
                message: "the search path names the schema \(hidden), which this role may not use (no USAGE on it): "
                    + "factpipe's tables there cannot be found, and a load would make others in the next schema; "
                    + "grant USAGE on it (and the privileges on its tables), or leave it out of the path")
        }
        // That schema first, the role's path after it: a trigger or a function of the user's that names its
        // own tables without a schema (`audit_log` in `public`) finds them as before.
        guard let schema = home.text(0, 0), !schema.isEmpty else {
            // A path of no schema that exists (`search_path = ''`, a schema dropped or misspelt): factpipe's
            // tables in `public` were not found, and readers said the database had no facts table, a first
            // load "no schema has been selected to create in".
            let path = try execute("SELECT current_setting('search_path')").text(0, 0) ?? ""
            throw PostgreSQLError(
                server: address.description,
                message: "the search path (\(path)) names no schema that exists and that this role may use "
                    + "(USAGE), so neither factpipe's tables nor a place to make them can be found; set one "
                    + "(ALTER ROLE … SET search_path, or PGOPTIONS='-c search_path=public'), or grant USAGE on it")
        }
        try execute(
            "SELECT set_config('search_path', quote_ident($1) || ', ' || current_setting('search_path'), false)",
            [schema])
        PQsetNoticeReceiver(connection, { context, result in
            guard let context, let result else { return }
            Unmanaged<PostgreSQLNotices>.fromOpaque(context).takeUnretainedValue().receive(result)
        }, Unmanaged.passUnretained(notices).toOpaque())
        // Notices (`… already exists, skipping`) are not for the user.
        _ = try? execute("SET client_min_messages = warning")
    }

    /// The first column of the query's first row; nil when it gives no row (asking libpq for a row that is not
    /// there prints a warning of its own on standard error).
    private func firstText(_ sql: String) throws(PostgreSQLError) -> String? {
        let result = try execute(sql)
        return result.rowCount > 0 ? result.text(0, 0) : nil
    }

    /// Set by `PostgreSQLWriterLock` when this session took the writer lock.
    var holdsWriterLock: Bool { writerLockBackend != nil }
    /// The server process (`pg_backend_pid()`) that took the writer lock. Each transaction `BEGIN` opens on
    /// this connection must run there: through a pooler in transaction mode it need not, and then the lock
    /// keeps no other load out (`checkSessionKept`).
    var writerLockBackend: Int64?

    /// What `cancelRunningStatements` needs of each open connection (libpq's `PGcancel`, usable from any
    /// thread while the connection is busy on another).
    private struct CancelHandle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private static let cancels = Mutex<[ObjectIdentifier: CancelHandle]>([:])

    /// Asks the server to cancel whatever each open connection is running (`PQcancel`), for a process about to
    /// end at once: its server processes otherwise go on with their statements, holding the writer lock,
    /// until they next look at the connection (a wait for another session's lock may last hours). Each
    /// request opens a connection of its own and waits for the server's answer, so a caller that must not
    /// hang (the server may be frozen) runs this on a thread it does not wait for long.
    static func cancelRunningStatements() {
        // Under the lock: a connection released meanwhile waits, rather than free what a request still uses.
        cancels.withLock { handles in
            var message = [CChar](repeating: 0, count: 256)
            for handle in handles.values { _ = PQcancel(handle.pointer, &message, Int32(message.count)) }
        }
    }

    deinit {
        if let cancel = Self.cancels.withLock({ $0.removeValue(forKey: ObjectIdentifier(self)) }) {
            PQfreeCancel(cancel.pointer)
        }
        // The writer lock is a session advisory lock, which goes with the session; but the server process
        // ends a moment after the connection closes, so a command started right after this one (`run`'s
        // optimize after its loads) could still find it held. Released here by its holder (a transaction
        // left open, as after a failed batch, is rolled back first), it is free once this returns.
        if holdsWriterLock && PQstatus(handle) == CONNECTION_OK {
            if PQtransactionStatus(handle) != PQTRANS_IDLE, let result = PQexec(handle, "ROLLBACK") { PQclear(result) }
            if let result = PQexec(handle, "SELECT pg_advisory_unlock_all()") { PQclear(result) }
        }
        PQfinish(handle)
    }

    /// Seconds a connection attempt may take when nothing else says.
    static let defaultConnectTimeoutSeconds = 10

    /// Runs one statement with `parameters` bound to `$1`, `$2`, … (text form; nil is NULL).
    /// - Throws: `PostgreSQLError` with PostgreSQL's message and SQLSTATE.
    @discardableResult
    func execute(_ sql: String, _ parameters: [String?] = []) throws(PostgreSQLError) -> PostgreSQLResult {
        let result: OpaquePointer?
        if parameters.isEmpty {
            result = PQexecParams(handle, sql, 0, nil, nil, nil, nil, 0)
        } else {
            result = Self.withOptionalCStrings(parameters) { values in
                PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
            }
        }
        let checked = try check(result, sql: sql)
        if let backend = writerLockBackend, sql.hasPrefix("BEGIN") { try checkSessionKept(backend) }
        return checked
    }

    /// Fails the transaction just begun unless it runs in the server process that holds the writer lock.
    /// PgBouncer in transaction mode hands each transaction whichever server connection is free: a second
    /// load took the lock beside the first (both wrote, and one failed on the other's temporary table), and
    /// a lock let go in another server process stayed held until the pooler closed the first (10 minutes).
    private func checkSessionKept(_ backend: Int64) throws(PostgreSQLError) {
        let now = try scalarInt("SELECT pg_backend_pid()")
        guard now != backend else { return }
        _ = try? execute("ROLLBACK")
        throw PostgreSQLError(
            server: server,
            message: "this load's transaction runs in server process \(now.map(String.init) ?? "?"), not in \(backend), "
                + "which holds its writer lock: a connection pooler in transaction mode (PgBouncer's pool_mode = "
                + "transaction) gives each transaction another server connection, and the lock keeps no other load "
                + "out; connect to the server itself, or through a pooler in session mode")
    }

    /// Runs several statements separated by `;` that take no parameters (schema scripts).
    func executeScript(_ sql: String) throws(PostgreSQLError) {
        let result = PQexec(handle, sql)
        _ = try check(result, sql: sql)
    }

    /// The first column of the first row as an integer, or nil for no row or NULL.
    func scalarInt(_ sql: String, _ parameters: [String?] = []) throws(PostgreSQLError) -> Int64? {
        let result = try execute(sql, parameters)
        guard result.rowCount > 0 else { return nil }
        return result.int64(0, 0)
    }

    /// True while a transaction is open (or failed and not yet rolled back).
    var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// Runs `statements` in a transaction of their own whose every lock wait ends after 50 ms, rolled back and
    /// run again 50 ms later while a lock was not had, for at most `patience`; false when it never had them
    /// (nothing changed). For statements that take a table's exclusive lock while readers may hold it (`DROP
    /// INDEX`): a request that waits queues every reader that comes after it, so one wait of two seconds behind
    /// a long query stopped every other reader of the table for those two seconds; now one waits 50 ms at most.
    /// - Throws: what a statement or the commit throws, but for a lock not had in time; rolled back first.
    func executeWithShortLockWaits(
        _ statements: [String], patience: Duration = .seconds(2)
    ) throws(PostgreSQLError) -> Bool {
        let deadline = ContinuousClock.now + patience
        while true {
            do throws(PostgreSQLError) {
                try execute("BEGIN")
                try execute("SET LOCAL lock_timeout = '50ms'")
                for statement in statements { try execute(statement) }
                try execute("COMMIT")
                return true
            } catch where error.sqlState == "55P03" {
                rollbackQuietly()
                guard ContinuousClock.now < deadline else { return false }
                // The readers queued behind the request go on meanwhile.
                usleep(50_000)
            } catch {
                rollbackQuietly()
                throw error
            }
        }
    }

    /// Rolls back what is open, ignoring failure (the connection may be gone).
    func rollbackQuietly() {
        guard isInTransaction else { return }
        if let result = PQexec(handle, "ROLLBACK") { PQclear(result) }
    }

    // MARK: COPY

    /// Starts `COPY … FROM STDIN`; rows follow through `putCopyData` and end with `endCopy`.
    func beginCopy(_ sql: String) throws(PostgreSQLError) {
        guard let result = PQexec(handle, sql) else { throw lastError("COPY failed", sql: sql) }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COPY_IN else {
            throw error(of: result, sql: sql)
        }
    }

    /// Sends rows in COPY text format (tab-separated, `\N` for NULL, one row a line), in pieces of at
    /// most `pieceBytes` (libpq takes an `Int32` length: a batch of large repeats may pass 2 GiB).
    func putCopyData(_ bytes: [UInt8], pieceBytes: Int = 1 << 30) throws(PostgreSQLError) {
        let piece = min(max(1, pieceBytes), Int(Int32.max))
        let rc = bytes.withUnsafeBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return 1 }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { start in
                var sent = 0
                while sent < buffer.count {
                    let count = min(piece, buffer.count - sent)
                    let rc = PQputCopyData(handle, start + sent, Int32(count))
                    guard rc == 1 else { return rc }
                    sent += count
                }
                return 1
            }
        }
        guard rc == 1 else { throw copyFailure() }
    }

    /// Ends the COPY; returns how many rows the server took.
    @discardableResult
    func endCopy() throws(PostgreSQLError) -> Int {
        guard PQputCopyEnd(handle, nil) == 1 else { throw copyFailure() }
        var rows = 0
        var failure: PostgreSQLError?
        while let result = PQgetResult(handle) {
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                rows = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if failure == nil {
                failure = error(of: result, sql: "COPY")
            }
            PQclear(result)
        }
        if let failure { throw failure }
        return rows
    }

    /// Abandons a COPY in progress (its rows are discarded by the server), ignoring failure.
    func abortCopy() {
        guard PQputCopyEnd(handle, "abandoned by factpipe") == 1 else { return }
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    // MARK: Errors

    private func check(_ result: OpaquePointer?, sql: String) throws(PostgreSQLError) -> PostgreSQLResult {
        guard let result else { throw lastError("the statement failed", sql: sql) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PostgreSQLResult(result)
        default:
            let failure = error(of: result, sql: sql)
            PQclear(result)
            throw failure
        }
    }

    private func error(of result: OpaquePointer, sql: String?) -> PostgreSQLError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        var text = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            ?? PostgreSQLError.oneLine(String(cString: PQerrorMessage(handle)))
        if let detail = PQresultErrorField(result, Int32(UInt8(ascii: "D"))) {
            text += " (\(String(cString: detail)))"
        }
        // The server's hint says what to do ("Check free disk space." under a full disk, SQLSTATE 53100, whose
        // message alone is "could not extend file …: wrote only 4096 of 8192 bytes").
        if let hint = PQresultErrorField(result, Int32(UInt8(ascii: "H"))), hint.pointee != 0 {
            text += " (hint: \(String(cString: hint)))"
        }
        if text.isEmpty { text = "the server closed the connection" }
        if state == "55P03" {
            text += "; another session holds a lock on a table this command needs (a transaction left open after it "
                + "wrote to the table or ran LOCK TABLE, ALTER TABLE, CREATE INDEX or VACUUM FULL; a pg_dump: see "
                + "pg_locks); what was committed is kept: run it again once the lock is let go (--resume for a load; "
                + "a load or undo waits --wait seconds, or the role's own lock_timeout)"
        }
        return PostgreSQLError(server: server, message: Self.scrub(lost(PostgreSQLError.oneLine(text)), address),
                               sqlState: state ?? notices.shutdown?.sqlState)
    }

    /// Why sending COPY data failed. A server that ends the connection (`pg_terminate_backend`, a shutdown)
    /// says why first, but libpq, busy writing, leaves that unread: only "server closed the connection
    /// unexpectedly" was said. What the server sent is read before the connection's own words are taken.
    private func copyFailure() -> PostgreSQLError {
        guard PQstatus(handle) == CONNECTION_BAD else { return lastError("COPY failed") }
        _ = PQconsumeInput(handle)
        var said: PostgreSQLError?
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            if said == nil, status == PGRES_FATAL_ERROR,
                let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))), message.pointee != 0 {
                said = error(of: result, sql: "COPY")
            }
            PQclear(result)
            // Still copying, libpq would hand the same state back for ever.
            if status == PGRES_COPY_IN || status == PGRES_COPY_BOTH { break }
        }
        guard let said else { return lastError("COPY failed") }
        return PostgreSQLError(server: server, message: "COPY failed: " + said.message, sqlState: said.sqlState)
    }

    private func lastError(_ what: String, sql: String? = nil) -> PostgreSQLError {
        let reason = lost(PostgreSQLError.oneLine(String(cString: PQerrorMessage(handle))))
        return PostgreSQLError(server: server, message: "\(what): \(Self.scrub(reason, address))",
                               sqlState: notices.shutdown?.sqlState)
    }

    /// `reason` said as a lost connection when it is one: with the server's own word on why when it gave
    /// one before it closed the connection (`terminating connection due to immediate shutdown command`).
    private func lost(_ reason: String) -> String {
        if let shutdown = notices.shutdown {
            return "the connection was lost: \(shutdown.message) (\(reason))"
        }
        return PQstatus(handle) == CONNECTION_BAD ? "the connection was lost: " + reason : reason
    }

    /// libpq's message with the URL's password taken out: libpq quotes a part it cannot parse (an invalid
    /// percent-encoding in the password, say).
    static func scrub(_ text: String, _ address: PostgreSQLAddress) -> String {
        var result = text.replacingAll(address.connectionString, with: address.description)
        for password in PostgreSQLAddress.writtenPasswords(address.connectionString) {
            result = result.replacingAll(password, with: "…")
            if let decoded = PostgreSQLAddress.percentDecoded(password), decoded != password {
                result = result.replacingAll(decoded, with: "…")
            }
        }
        return result
    }

    // MARK: C strings

    private static func withCStrings<R>(
        _ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R
    ) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        pointers.append(nil)
        return body(pointers.map { $0.map { UnsafePointer($0) } })
    }

    private static func withOptionalCStrings<R>(
        _ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R
    ) -> R {
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
        defer { pointers.forEach { free($0) } }
        return body(pointers.map { $0.map { UnsafePointer($0) } })
    }
}

/// The notices and warnings a connection received, kept for what they say about its end: a server that
/// shuts down or crashes warns each session (SQLSTATE class 57) just before it closes the connection.
final class PostgreSQLNotices {
    /// The last such warning: its message and SQLSTATE.
    private(set) var shutdown: (message: String, sqlState: String)?

    func receive(_ result: OpaquePointer) {
        guard let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map({ String(cString: $0) }),
              state.hasPrefix("57"),
              let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map({ String(cString: $0) })
        else { return }
        shutdown = (PostgreSQLError.oneLine(message), state)
    }
}

extension String {
    /// `self` with every occurrence of `target` replaced by `replacement`.
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

/// The PostgreSQL sessions of this process, for a command that ends at once.
public enum PostgreSQLSessions {
    /// Asks the server to cancel what every open connection runs (`PostgreSQLConnection.cancelRunningStatements`).
    public static func cancelRunningStatements() {
        PostgreSQLConnection.cancelRunningStatements()
    }
}
