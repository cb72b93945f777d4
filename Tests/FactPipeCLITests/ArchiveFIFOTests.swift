import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// An archive, or its `.sha256` or `.manifest.json`, that is a FIFO is refused at once as not a
/// regular file: `verify` and `restore` never wait for a writer that is not coming.
@Suite struct ArchiveFIFOTests {
    /// Runs factpipe with `arguments`; a run still going after 30 seconds is killed and fails the test.
    private func runWithin(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws
        -> FactpipeRun?
    {
        let process = try BackgroundProcess(BinaryLocator.factpipe, arguments)
        guard poll(timeout: 30, { !process.isRunning }) else {
            process.killNine()
            Issue.record("factpipe \(arguments.joined(separator: " ")) hung", sourceLocation: sourceLocation)
            return nil
        }
        return try process.wait()
    }

    /// `verify` and `restore` of `archive` must fail with exit 1, naming `named` as not a regular file.
    private func expectRefused(
        _ work: CLIWorkspace, _ archive: String, naming named: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let commands = [["verify", archive], ["restore", archive, "--to", work.path("restored.sqlite")]]
        for arguments in commands {
            guard let run = try runWithin(arguments, sourceLocation: sourceLocation) else { continue }
            #expect(run.status == 1, "\(arguments): \(run.stderr)", sourceLocation: sourceLocation)
            #expect(
                run.stderr.contains("\(named): cannot read: not a regular file"), "\(arguments): \(run.stderr)",
                sourceLocation: sourceLocation)
        }
        #expect(!FileManager.default.fileExists(atPath: work.path("restored.sqlite")), sourceLocation: sourceLocation)
    }

    @Test func anArchiveThatIsAFIFOIsRefused() throws {
        let work = try CLIWorkspace()
        let fifo = work.path("ff")
        try #require(mkfifo(fifo, 0o600) == 0)
        try expectRefused(work, fifo, naming: fifo)
    }

    @Test func aChecksumFileOrManifestThatIsAFIFOIsRefused() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        for name in ["s.ndjson.zst", "s.csv"] {
            let archive = work.path(name)
            try #require(try Factpipe.run(["export", "--db", work.database, "-o", archive, "-q"]).status == 0)
            let sidecars = [".sha256"] + (name.hasSuffix(".zst") ? [] : [".manifest.json"])
            for suffix in sidecars {
                let sidecar = archive + suffix
                let saved = try Data(contentsOf: URL(fileURLWithPath: sidecar))
                try FileManager.default.removeItem(atPath: sidecar)
                try #require(mkfifo(sidecar, 0o600) == 0)
                try expectRefused(work, archive, naming: sidecar)
                try FileManager.default.removeItem(atPath: sidecar)
                try saved.write(to: URL(fileURLWithPath: sidecar))
            }
        }
    }
}
