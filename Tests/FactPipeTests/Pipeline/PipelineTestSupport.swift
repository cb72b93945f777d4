import Foundation
import Testing

@testable import FactPipe
@_exported import FactPipeTestSupport

/// One row of `facts`, as stored.
struct FactRow: Equatable, CustomStringConvertible {
    var id: Int
    var statement: String
    var predicate: String
    var subject: String
    var object: String?
    var args: String
    var arity: Int
    var confidence: Double
    var source: String?
    var context: String
    var metadata: String
    var createdAt: String
    var loadID: Int?

    var description: String { "#\(id) \(statement)" }
}

/// One row of `factpipe_loads`.
struct LedgerRow: Equatable {
    var id: Int
    var source: String
    var sourceSize: Int?
    var sourceSHA256: String?
    var format: String?
    var compression: String?
    var conflictPolicy: String
    var startedAt: String
    var finishedAt: String?
    var status: String
    var records: Int
    var inserted: Int
    var updated: Int
    var duplicates: Int
    var rejected: Int
    var warnings: Int
    var checkpointOffset: Int
    var checkpointLine: Int
    var message: String?
}

extension RawDatabase {
    func facts() throws -> [FactRow] {
        try rows("""
            SELECT id, statement, predicate, subject, object, args, arity, confidence, source, context, fact_metadata,
            created_at, load_id FROM facts ORDER BY statement
            """).map { r in
            FactRow(
                id: Int(r[0]!)!, statement: r[1]!, predicate: r[2]!, subject: r[3]!, object: r[4], args: r[5]!,
                arity: Int(r[6]!)!, confidence: Double(r[7]!)!, source: r[8], context: r[9]!, metadata: r[10]!,
                createdAt: r[11]!, loadID: r[12].flatMap { Int($0) })
        }
    }

    func statements() throws -> [String] {
        try facts().map(\.statement)
    }

    func fact(_ statement: String) throws -> FactRow? {
        try facts().first { $0.statement == statement }
    }

    func ledger() throws -> [LedgerRow] {
        try rows("""
            SELECT id, source, source_size, source_sha256, format, compression, conflict_policy, started_at,
            finished_at, status, records, inserted, updated, duplicates, rejected, warnings, checkpoint_offset,
            checkpoint_line, message FROM factpipe_loads ORDER BY id
            """).map { r in
            LedgerRow(
                id: Int(r[0]!)!, source: r[1]!, sourceSize: r[2].flatMap { Int($0) }, sourceSHA256: r[3], format: r[4],
                compression: r[5], conflictPolicy: r[6]!, startedAt: r[7]!, finishedAt: r[8], status: r[9]!,
                records: Int(r[10]!)!, inserted: Int(r[11]!)!, updated: Int(r[12]!)!, duplicates: Int(r[13]!)!,
                rejected: Int(r[14]!)!, warnings: Int(r[15]!)!, checkpointOffset: Int(r[16]!)!,
                checkpointLine: Int(r[17]!)!, message: r[18])
        }
    }

    /// Names of the indexes on `facts`, SQLite's own automatic ones left out.
    func factIndexes() throws -> Set<String> {
        Set(try column("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'facts' AND sql IS NOT NULL")
            .compactMap { $0 })
    }
}

/// A JSON object's text decoded, to compare regardless of member order and spacing.
func jsonObject(_ text: String?) throws -> NSDictionary {
    let text = try #require(text)
    return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary, "\(text)")
}

/// A temporary folder with a database path, for one load or a few.
final class LoadWorkspace {
    let directory: TemporaryDirectory
    let databasePath: String

    init() throws {
        directory = try TemporaryDirectory()
        databasePath = directory.path("facts.sqlite")
    }

    func path(_ name: String) -> String { directory.path(name) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try directory.write(name, text) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String { try directory.write(name, bytes) }

    /// Copies a fixture under `Fixtures/` into the workspace and returns its path there.
    func copyFixture(_ relativePath: String) throws -> String {
        let target = path(URL(fileURLWithPath: relativePath).lastPathComponent)
        try FileManager.default.copyItem(at: fixtureURL(relativePath), to: URL(fileURLWithPath: target))
        return target
    }

    /// Runs one load of `inputs` into the workspace's database and checks that its counts add up.
    func load(
        _ inputs: [String], sourceLocation: SourceLocation = #_sourceLocation,
        _ configure: (inout ImportOptions) -> Void = { _ in }
    ) -> ImportSummary {
        var options = ImportOptions(inputs: inputs, databasePath: databasePath)
        configure(&options)
        let summary = ImportPipeline(options: options).run()
        expectCountsAddUp(summary, sourceLocation: sourceLocation)
        return summary
    }

    func load(
        _ input: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ configure: (inout ImportOptions) -> Void = { _ in }
    ) -> ImportSummary {
        load([input], sourceLocation: sourceLocation, configure)
    }

    func database() throws -> RawDatabase { try RawDatabase(databasePath) }

    func lines(_ name: String) throws -> [String] {
        try String(contentsOfFile: path(name), encoding: .utf8).split(separator: "\n").map(String.init)
    }
}

/// records == inserted + updated + duplicates + rejected, for the load and each of its sources.
func expectCountsAddUp(_ summary: ImportSummary, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        summary.records == summary.inserted + summary.updated + summary.duplicates + summary.rejected,
        "records \(summary.records) != \(summary.inserted) + \(summary.updated) + \(summary.duplicates) + \(summary.rejected)",
        sourceLocation: sourceLocation)
    for source in summary.sources {
        #expect(
            source.records == source.inserted + source.updated + source.duplicates + source.rejected,
            "\(source.path): counts do not add up", sourceLocation: sourceLocation)
    }
    #expect(summary.records == summary.sources.reduce(0) { $0 + $1.records }, sourceLocation: sourceLocation)
    #expect(summary.inserted == summary.sources.reduce(0) { $0 + $1.inserted }, sourceLocation: sourceLocation)
}

/// The ledger's counts must add up too, and agree with the summary's source of the same id.
func expectLedgerAddsUp(_ row: LedgerRow, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        row.records == row.inserted + row.updated + row.duplicates + row.rejected,
        "ledger row \(row.id): \(row.records) != \(row.inserted) + \(row.updated) + \(row.duplicates) + \(row.rejected)",
        sourceLocation: sourceLocation)
}

/// The rejects file's lines, decoded.
func rejectLines(_ path: String) throws -> [[String: Any]] {
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try text.split(separator: "\n").map { line in
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
    }
}

/// A value shared between threads behind a lock.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func get() -> Value { lock.withLock { value } }

    func set(_ newValue: Value) { lock.withLock { value = newValue } }

    func update<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
}
