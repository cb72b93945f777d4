import Foundation
import Testing

/// A symbolic link another user made is not written through: in a shared folder, or a user's folder that
/// root's nightly job writes into, it could hand factpipe's writes to any file (root's `run` appended its
/// rejects to a root-only file and replaced another with its report). The tests run as root, as CI does,
/// and give each link to a user id that is neither root nor this process's.
@Suite struct ForeignSymlinkTests {
    private static let stranger: uid_t = 54_321

    /// A file the link points at, and the link (`name`) owned by `owner`.
    private func link(_ work: CLIWorkspace, _ name: String, to victim: String, owner: uid_t = stranger) throws {
        try #require(symlink(victim, work.path(name)) == 0)
        try #require(lchown(work.path(name), owner, owner) == 0)
    }

    private func input(_ work: CLIWorkspace) throws -> String {
        try work.write("in.ndjson", "{\"statement\":\"P(a\"}\n{\"statement\":\"P(b)\"}\n")
    }

    @Test(arguments: ["--rejects", "--report", "--metrics-file"])
    func aLoadsOutputThatIsAnotherUsersLinkIsNotWrittenThrough(_ option: String) throws {
        let work = try CLIWorkspace()
        let victim = try work.write("victim.txt", "root's own file\n")
        try link(work, "out", to: victim)
        let run = try Factpipe.run(["import", try input(work), "--db", work.database, option, work.path("out")])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("is a symbolic link made by uid \(Self.stranger), which factpipe does not write through"),
                "\(run.stderr)")
        #expect(try work.read("victim.txt") == "root's own file\n")
        var info = stat()
        #expect(lstat(work.path("out"), &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK, "the link stays")
    }

    @Test func anExportOrARestoreToAnotherUsersLinkLeavesItsFileAlone() throws {
        let work = try CLIWorkspace()
        try #require(try Factpipe.run(["import", try input(work), "--db", work.database, "-q"]).status == 2)
        let victim = work.path("theirs.sqlite")
        try #require(try Factpipe.run(["import", try input(work), "--db", victim, "-q"]).status == 2)
        try #require(try Factpipe.run(["export", "--db", work.database, "-o", work.path("s.ndjson"), "-q"]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: victim))
        let notes = try work.write("notes.txt", "their notes\n")
        try link(work, "archive.ndjson", to: notes)
        let export = try Factpipe.run(["export", "--db", work.database, "-o", work.path("archive.ndjson"), "-q"])
        #expect(export.status == 1, "\(export.stderr)")
        #expect(export.stderr.contains("symbolic link made by uid \(Self.stranger)"), "\(export.stderr)")
        #expect(try work.read("notes.txt") == "their notes\n")
        try link(work, "target.sqlite", to: victim)
        let restore = try Factpipe.run(["restore", work.path("s.ndjson"), "--to", work.path("target.sqlite"), "--force", "-q"])
        #expect(restore.status != 0, "\(restore.stderr)")
        #expect(restore.stderr.contains("symbolic link made by uid \(Self.stranger)"), "\(restore.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: victim)) == before)
    }

    /// A link this user made is written through as before (its file replaced, the link kept).
    /// A link whose target's name is not UTF-8 cannot be written through (factpipe cannot name the target):
    /// it was taken for a plain file and replaced by one. It is refused, and stays.
    @Test func aLinkToANameThatIsNotUTF8IsRefusedAndKept() throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.ndjson", #"{"statement":"A(a)."}"# + "\n")
        let shell = URL(fileURLWithPath: "/bin/sh")
        let made = try Factpipe.runProcess(shell, ["-c", "cd \"$1\" && ln -s \"$(printf 't\\377.json')\" r.json", "sh", work.url.path])
        try #require(made.status == 0)
        let run = try Factpipe.run(["import", input, "--db", work.database, "--report", work.path("r.json")])
        #expect(run.status != 0, "\(run.stderr)")
        #expect(run.stderr.contains("a symbolic link to a name that is not UTF-8"), "\(run.stderr)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: work.path("r.json"))) != nil)
        let export = try Factpipe.run(["export", "--db", work.database, "-o", work.path("r.json")])
        #expect(export.status != 0 && export.stderr.contains("not UTF-8"), "\(export.stderr)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: work.path("r.json"))) != nil)
    }

    @Test func aLinkOfThisUserIsStillWrittenThrough() throws {
        let work = try CLIWorkspace()
        let target = try work.write("report-target.json", "old")
        try link(work, "report.json", to: target, owner: geteuid())
        let run = try Factpipe.run(["import", try input(work), "--db", work.database, "--report", work.path("report.json")])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(try work.read("report-target.json").contains("\"command\""))
    }
}
