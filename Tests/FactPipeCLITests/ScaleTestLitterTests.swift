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

    /// The pids of the `factpipe generate` children of `parent`, from /proc.
    private func generatorChildren(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let line = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
            let arguments = line.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains("generate") && arguments.contains("--parent-pid")
                && arguments.last == String(parent)
        }
    }

    /// Its generator child went on writing the whole input (gigabytes at the default size) after a
    /// `kill -9` of the scale test; it now stops and removes what it wrote.
    @Test func theGeneratorOfAKilledScaleTestStopsAndRemovesItsFile() throws {
        let work = try CLIWorkspace()
        try FileManager.default.createDirectory(atPath: work.path("work"), withIntermediateDirectories: false)
        let killed = try BackgroundProcess(
            BinaryLocator.factpipe, ["scale-test", "--facts", "20000000", "--work-dir", work.path("work"), "-q"])
        var children: [Int32] = []
        let started = poll(timeout: 60) {
            children = generatorChildren(of: killed.pid)
            return !children.isEmpty || !killed.isRunning
        }
        #expect(started && children.count == 1, "no generator child: \(children)")
        killed.killNine()
        _ = try killed.wait()
        let stopped = poll(timeout: 10) { children.allSatisfy { kill($0, 0) != 0 } }
        #expect(stopped, "the generator \(children) outlived the scale test")
        let folders = try workFolders(work)
        #expect(folders.count == 1)
        let left = try work.contents("work/\(folders.first ?? "")")
        #expect(left.isEmpty, "the generator's file is left: \(left)")
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
        // Its input is being written (under a temporary name until it is whole: the whole input, 3M facts, took
        // 40-60 s here in a debug build, and the test failed waiting for it on a busy machine).
        let started = poll(timeout: 60) {
            ((try? workFolders(work)) ?? []).contains { folder in
                !keptFolders.contains(folder) && !((try? work.contents("work/\(folder)")) ?? []).isEmpty
            } || !killed.isRunning
        }
        #expect(started && killed.isRunning, "the scale test never began writing its input")
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
