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
                try Factpipe.tool("/usr/bin/xargs", export, stdin: Data("--predicate=HasPart\n--since=2000-01-01T00:00:00Z\n".utf8))
                let verify = try Factpipe.run(["verify", output, "-q"])
                #expect(verify.status == 0, "\(name), round \(round): \(verify.stderr)")
            }
        }
    }

    /// A compressed export over a plain one removes the plain one's manifest, which would describe
    /// another file; a file of that name that is not a factpipe manifest is left alone.
    @Test func aCompressedExportRemovesThePlainExportsManifest() throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let output = work.path("x.zst")
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", output, "--level", "0", "-q"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: output + ".manifest.json"))
        let compressed = try Factpipe.run(["export", "--db", work.database, "-o", output, "--json"])
        #expect(compressed.status == 0, "\(compressed.stderr)")
        #expect(try compressed.json()["sidecars"] as? [String] == [output + ".sha256"])
        #expect(try work.contents("").filter { $0.hasPrefix("x.zst") } == ["x.zst", "x.zst.sha256"])
        #expect(try Factpipe.run(["verify", output, "-q"]).status == 0)

        // Not factpipe's manifest (or not one at all): kept.
        for text in ["my notes\n", "{\"kind\":\"snapshot\"}\n"] {
            try work.write("x.zst.manifest.json", text)
            #expect(try Factpipe.run(["export", "--db", work.database, "-o", output, "-q"]).status == 0)
            #expect(try work.read("x.zst.manifest.json") == text)
        }
    }

    /// A folder where the checksum file or the manifest goes failed the export only after the new archive
    /// had replaced the old one, and left the file's temporary copy beside them. Nothing is replaced now.
    @Test(arguments: [("out.ndjson.zst", ".sha256"), ("out.ndjson", ".manifest.json")])
    func aFolderWhereAFileBesideTheArchiveGoesFailsTheExportBeforeAnythingIsReplaced(
        name: String, suffix: String
    ) throws {
        let work = try CLIWorkspace()
        try work.loadFacts()
        let output = work.path(name)
        #expect(try Factpipe.run(["export", "--db", work.database, "-o", output, "--predicate", "HasPart", "-q"])
            .status == 0)
        let before = try sha256sum(output)
        try FileManager.default.removeItem(atPath: output + suffix)
        try FileManager.default.createDirectory(atPath: output + suffix, withIntermediateDirectories: false)
        let run = try Factpipe.run(["export", "--db", work.database, "-o", output])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("\(output + suffix): cannot write: is a directory"), "\(run.stderr)")
        #expect(try sha256sum(output) == before)
        let left = try FileManager.default.contentsOfDirectory(atPath: work.url.path).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "\(left)")
    }
}
