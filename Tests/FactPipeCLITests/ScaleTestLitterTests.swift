import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A scale test killed with SIGKILL leaves its work folder (its input and database); the next one in
/// the same folder removes it, and keeps a database another kept with --keep.
@Suite struct ScaleTestLitterTests {
    private func workFolders(_ work: CLIWorkspace) throws -> [String] {
        try work.contents("work").filter { $0.hasPrefix(".factpipe-scale-test.") }
    }

    @Test func theNextScaleTestRemovesTheWorkFolderOfAKilledOne() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("work"), withIntermediateDirectories: false)
        let kept = try Factpipe.run([
            "scale-test", "--facts", "2000", "--queries", "10", "--work-dir", work.path("work"), "--keep", "--json",
        ])
        #expect(kept.status == 0, "\(kept.stderr)")
        let keptFolders = try workFolders(work)
        #expect(keptFolders.count == 1, "the kept database's folder: \(keptFolders)")

        let killed = try BackgroundProcess(
            BinaryLocator.factpipe, ["scale-test", "--facts", "3000000", "--work-dir", work.path("work"), "-q"])
        let started = poll(timeout: 60) {
            ((try? workFolders(work)) ?? []).contains { folder in
                !keptFolders.contains(folder)
                    && FileManager.default.fileExists(atPath: work.path("work/\(folder)/facts.csv"))
            } || !killed.isRunning
        }
        #expect(started && killed.isRunning, "the scale test never wrote its input")
        killed.killNine()
        _ = try killed.wait()
        #expect(try workFolders(work).count == 2)

        let next = try Factpipe.run([
            "scale-test", "--facts", "2000", "--queries", "10", "--work-dir", work.path("work"),
        ])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try workFolders(work) == keptFolders)
        #expect(FileManager.default.fileExists(atPath: work.path("work/\(keptFolders[0])/scale-test.sqlite")))
    }
}
