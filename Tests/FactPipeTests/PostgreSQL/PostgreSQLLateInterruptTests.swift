import Foundation
import Testing

@testable import FactPipe

/// The PostgreSQL writer's side of `LateInterruptTests`: an interrupt that comes once the last input was
/// merged and recorded done lets the load finish and say so.
@Suite(.enabled(
    if: ProcessInfo.processInfo.environment["FACTPIPE_TEST_POSTGRES_URL"] != nil
        || ProcessInfo.processInfo.environment["CI"] == "true",
    "no PostgreSQL server: FACTPIPE_TEST_POSTGRES_URL is not set (scripts/test sets it)"))
struct PostgreSQLLateInterruptTests {
    @Test func anInterruptAfterTheLastInputWasMergedFinishesTheLoad() throws {
        let url = try #require(ProcessInfo.processInfo.environment["FACTPIPE_TEST_POSTGRES_URL"],
                               "CI=true, so this test must run: run scripts/test")
        let maintenance = try PostgreSQLConnection(address: try #require(PostgreSQLAddress(url)))
        let name = "factpipe_late_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        _ = try maintenance.execute("CREATE DATABASE \(name) ENCODING 'UTF8' TEMPLATE template0")
        defer { _ = try? maintenance.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        let slash = try #require(url.range(of: "/", options: .backwards))
        let address = try #require(PostgreSQLAddress(String(url[..<slash.lowerBound]) + "/" + name))

        let work = try LoadWorkspace()
        let input = try work.write("in.txt", "P(1).\nP(2).\n")
        let options = ImportOptions(inputs: [input], databasePath: address.connectionString)
        // Turns on once the ledger, read through a connection of its own, has a load that is done.
        let reader = try PostgreSQLConnection(address: address)
        let summary: ImportSummary
        do {
            let store = try PostgreSQLFactStore(
                address: address, options: options, startedAt: Timestamp.now(), progress: nil
            ) {
                let done = try? reader.scalarInt("SELECT count(*) FROM factpipe_loads WHERE status = 'done'")
                return (done ?? nil ?? 0) > 0
            }
            let plans = try store.plan([input])
            let messages = BoundedQueue<WriterMessage>(name: "writer", capacity: 8)
            _ = messages.push(.begin(SourceDescriptor(path: input, format: .text, compression: .none, size: 12)))
            var first = Fact(
                statement: "P(1).", predicate: "P", subject: "1", object: nil, argsJSON: "[\"1\"]", arity: 1,
                confidence: 1, source: nil, context: "{}", metadata: "{}", createdAt: nil)
            first.line = 1
            var second = Fact(
                statement: "P(2).", predicate: "P", subject: "2", object: nil, argsJSON: "[\"2\"]", arity: 1,
                confidence: 1, source: nil, context: "{}", metadata: "{}", createdAt: nil)
            second.line = 2
            second.offset = 6
            _ = messages.push(.segment(FactSegment(
                facts: [first, second], records: 2, checkpointOffset: 12, checkpointLine: 3, endsBatch: true)))
            _ = messages.push(.end(sha256: nil))
            messages.close()
            summary = store.run(messages, estimatedRecords: 2, sourcesToRead: plans.filter(\.isRead).count)
        }
        #expect(summary.status == .done, "\(summary)")
        #expect(!summary.wasInterrupted)
        #expect(summary.notes.contains(FinishedSource.lateInterruptNote))
        #expect(try reader.scalarInt("SELECT count(*) FROM facts") == 2)
        #expect(try reader.scalarInt("SELECT count(*) FROM factpipe_loads WHERE status = 'done'") == 1)
    }
}
