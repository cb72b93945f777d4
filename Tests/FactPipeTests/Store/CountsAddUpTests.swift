import Foundation
import Testing

@testable import FactPipe

/// A load whose counts do not add up (records != inserted + updated + duplicates + rejected + staged)
/// is a failure, never `done`, in its summary and in its ledger row.
@Suite struct CountsAddUpTests {
    @Test func recordsThatVanishFromTheStagingTableFailTheLoad() throws {
        let work = try LoadWorkspace()
        let first = try work.write("first.txt", "IsA(Dog, Animal).\n")
        #expect(work.load(first).status == .done)
        // Something outside factpipe drops staged rows: the records are counted but never stored.
        try work.database().execute("""
            CREATE TRIGGER lose_facts BEFORE INSERT ON factpipe_staging WHEN new.statement LIKE 'IsA(Lost%'
            BEGIN SELECT RAISE(IGNORE); END;
            """)
        let second = try work.write("second.txt", "IsA(Cat, Animal).\nIsA(Lost1, Animal).\nIsA(Lost2, Animal).\n")
        let summary = ImportPipeline(options: ImportOptions(inputs: [second], databasePath: work.databasePath)).run()
        #expect(summary.status == .failed)
        #expect(summary.message?.contains("do not add up") == true, "\(summary.message ?? "")")
        #expect((summary.error as? StoreError)?.kind == .countsDoNotAddUp)
        let statuses = try work.database().column("SELECT status FROM factpipe_loads ORDER BY id")
        #expect(statuses == ["done", "failed"])
    }
}
