import Foundation
import Testing

@testable import FactPipe

/// The PostgreSQL side of `anInputThatFailsItsChecksumIsUndone`: the load of a compressed input whose
/// checksum fails at its end is undone once the store has let go of the server's writer lock.
@Suite(.enabled(if: PostgreSQLTestAddress.isEnabled, PostgreSQLTestAddress.skipReason))
struct PostgreSQLDamagedInputTests {
    @Test func aZstdInputThatFailsItsChecksumIsUndone() throws {
        let scratch = try PostgreSQLTestAddress.scratchDatabase("factpipe_damaged_")
        defer { scratch.drop() }
        let address = scratch.address

        let work = try LoadWorkspace()
        let earlier = try work.write("earlier.txt", "Damaged(item7, v7).\nOther(a, b).\n")
        var first = ImportOptions(inputs: [earlier], databasePath: address.connectionString)
        first.batchSize = 1_000
        #expect(ImportPipeline(options: first).run().inserted == 2)
        let text = (0..<30_000).map { "Damaged(item\($0), v\($0 % 40))." }.joined(separator: "\n") + "\n"
        let packed = work.path("packed.zst")
        try zstdCLI(try work.write("big.txt", text), packed)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: packed)))
        bytes[bytes.count - 1] ^= 0x01
        var options = first
        options.inputs = [try work.write("damaged.zst", bytes)]
        let started = ContinuousClock.now
        let summary = ImportPipeline(options: options).run()
        #expect(summary.status == .failed)
        #expect(summary.inserted >= 10_000, "\(summary)")
        #expect(summary.sources.map(\.status) == [.undone])
        #expect(summary.message?.contains("its load 2 was undone") == true, "\(summary.message ?? "")")
        // The undo took the lock the load had let go of, not after waiting out its own.
        #expect(ContinuousClock.now - started < .seconds(30))
        let reader = try PostgreSQLConnection(address: address)
        #expect(try reader.scalarInt("SELECT count(*) FROM facts") == 2)
        #expect(try reader.scalarInt("SELECT count(*) FROM factpipe_loads WHERE status = 'undone'") == 1)
    }
}
