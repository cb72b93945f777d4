import Foundation
import Testing

/// An archive and the files beside it (`FILE.sha256`, `FILE.manifest.json`) always come from one export.
@Suite struct ExportSidecarTests {
    /// Two exports of different facts to one path at once: whichever renames last, its archive, its
    /// checksum file and its manifest are the three left, so `verify` passes every time.
    @Test func concurrentExportsToOnePathLeaveTheFilesOfOneRun() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        for name in ["out.csv", "out.ndjson.zst"] {
            let output = work.path(name)
            // Started together by xargs, so that both reach their renames at about the same time.
            let export = [
                "-P", "2", "-n", "1", BinaryLocator.factpipe.path, "export", "--db", work.database, "-o", output,
            ]
            for round in 0..<40 {
                try Factpipe.tool("/usr/bin/xargs", export, stdin: Data("--predicate=HasPart\n--level=3\n".utf8))
                let verify = try Factpipe.run(["verify", output, "-q"])
                #expect(verify.status == 0, "\(name), round \(round): \(verify.stderr)")
            }
        }
    }
}
