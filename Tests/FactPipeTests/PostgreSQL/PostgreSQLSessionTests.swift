import Foundation
import Testing

@testable import FactPipe

/// What one session leaves for the next on the server: the merge's occurrence index, the writer lock.
@Suite(.enabled(if: PostgreSQLTestAddress.isEnabled, PostgreSQLTestAddress.skipReason))
struct PostgreSQLSessionTests {
    /// A batch whose statements repeat more than `roundsWorthAnIndex` times gets an index by occurrence
    /// for its merge; it is dropped after, or every later COPY of the session would maintain it.
    @Test func theOccurrenceIndexOfAManyRoundMergeDoesNotOutliveIt() throws {
        let connection = try PostgreSQLConnection(address: try PostgreSQLTestAddress.server())
        let schema = "merge_rounds_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        // Everything in one transaction, rolled back: nothing is left on the shared server.
        try connection.execute("BEGIN")
        defer { _ = try? connection.execute("ROLLBACK") }
        try connection.execute("CREATE SCHEMA \(schema)")
        try connection.execute("SET LOCAL search_path = \(schema)")
        try connection.executeScript(PostgreSQLSchema.createTables)
        try connection.execute(PostgreSQLSchema.createBatchTable)
        let rounds = PostgreSQLFactStore.roundsWorthAnIndex + 2
        try connection.execute("""
            INSERT INTO factpipe_batch SELECT g, g, 1, g, 0, 'A(x).', 'A', 'x', NULL, '["x"]', 1, g, NULL, '{}', '{}',
                now(), 0 FROM generate_series(1, \(rounds)) AS g
            """)
        let merged = try PostgreSQLFactStore.merge(
            on: connection, policy: .replace, rounds: rounds, rows: Int64(rounds), loadID: 1)
        #expect(merged.inserted == 1 && merged.updated == rounds - 1)
        #expect(try connection.execute("SELECT confidence FROM facts").text(0, 0) == "\(rounds)")
        #expect(try connection.execute("SELECT to_regclass('pg_temp.factpipe_batch_occurrence') IS NULL").bool(0, 0))
    }

    /// The server's hint is part of the error: under a full disk (SQLSTATE 53100) the message alone is "could
    /// not extend file …", and the hint "Check free disk space." was dropped.
    @Test func theServersHintIsPartOfTheError() throws {
        let connection = try PostgreSQLConnection(address: try PostgreSQLTestAddress.server())
        do {
            try connection.execute("DO $$ BEGIN RAISE EXCEPTION 'no room' USING ERRCODE = '53100', HINT = 'Check free disk space.'; END $$")
            Issue.record("the statement did not fail")
        } catch {
            #expect(error.message.contains("no room (hint: Check free disk space.)"), "\(error)")
            #expect(error.sqlState == "53100")
        }
    }

    /// The writer lock is free once its holder's connection is released, also with a transaction left
    /// open (a failed batch): the next command right after finds it free, not held by a server process
    /// that has not ended yet.
    @Test func theWriterLockIsFreeOnceItsHoldersConnectionIsReleased() throws {
        let address = try PostgreSQLTestAddress.server()
        let other = try PostgreSQLConnection(address: address)
        for attempt in 0..<12 {
            var holder: PostgreSQLConnection? = try PostgreSQLConnection(address: address)
            try #require(try PostgreSQLWriterLock.takeIfFree(on: try #require(holder)))
            #expect(try !PostgreSQLWriterLock.takeIfFree(on: other), "attempt \(attempt): held by the other")
            if attempt % 2 == 0 {
                try holder?.execute("BEGIN")
                _ = try? holder?.execute("SELECT 1 / 0")  // the transaction is now failed, and open
            }
            holder = nil
            #expect(try PostgreSQLWriterLock.takeIfFree(on: other), "attempt \(attempt)")
            try other.execute("SELECT pg_advisory_unlock_all()")
            other.writerLockBackend = nil
        }
    }

    /// Through a pooler in transaction mode a load's lock attempt may run in a server process whose session
    /// another client's load left holding the lock. A session takes its own advisory lock again, so the
    /// second load was let in beside the first. Here one connection plays that server process.
    @Test func aServerProcessThatHoldsTheLockAlreadyCountsAsAnotherLoad() throws {
        let scratch = try PostgreSQLTestAddress.scratchDatabase("factpipe_pooled_")
        defer { scratch.drop() }
        let pooled = try PostgreSQLConnection(address: scratch.address)
        try pooled.execute("SELECT pg_advisory_lock($1::bigint)", ["\(PostgreSQLSchema.writerLockKey)"])
        #expect(try !PostgreSQLWriterLock.takeIfFree(on: pooled))
        #expect(!pooled.holdsWriterLock)
        do throws(PostgreSQLError) {
            try PostgreSQLWriterLock.take(on: pooled, timeoutSeconds: 0.2, isCancelled: { false })
            Issue.record("the lock was taken again by the session that holds it")
        } catch {
            #expect(error.message.contains("another load is writing to this database"), "\(error.message)")
            // Named, though it is the server process this connection's statements run in.
            let pid = (try? pooled.scalarInt("SELECT pg_backend_pid()")).flatMap { $0 } ?? -1
            #expect(error.message.contains("server process \(pid),"), "\(error.message)")
        }
        // Once that session lets it go, it is free.
        try pooled.execute("SELECT pg_advisory_unlock_all()")
        #expect(try PostgreSQLWriterLock.takeIfFree(on: pooled))
        #expect(pooled.writerLockBackend == (try pooled.scalarInt("SELECT pg_backend_pid()")))
    }

    /// A transaction of the load that runs in another server process than the one holding its lock (a pooler in
    /// transaction mode) fails at its BEGIN, before it writes; here the lock is taken on one connection and the
    /// transaction begun on another, as a pooler would hand them out.
    @Test func aTransactionOutsideTheLocksServerProcessFailsAtItsBegin() throws {
        let scratch = try PostgreSQLTestAddress.scratchDatabase("factpipe_pooled_")
        defer { scratch.drop() }
        let first = try PostgreSQLConnection(address: scratch.address)
        let second = try PostgreSQLConnection(address: scratch.address)
        try #require(try PostgreSQLWriterLock.takeIfFree(on: first))
        try first.execute("BEGIN")
        try first.execute("COMMIT")
        second.writerLockBackend = first.writerLockBackend
        defer { second.writerLockBackend = nil }
        do throws(PostgreSQLError) {
            try second.execute("BEGIN")
            Issue.record("a transaction outside the lock's server process began")
        } catch {
            #expect(error.message.contains("a connection pooler in transaction mode"), "\(error.message)")
        }
        #expect(!second.isInTransaction)
    }
}
