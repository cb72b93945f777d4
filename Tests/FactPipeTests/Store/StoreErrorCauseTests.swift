import Foundation
import Testing

@testable import FactPipe

/// Errors say what kind of failure they are without borrowing SQLite's codes, and keep their cause.
@Suite struct StoreErrorCauseTests {
    /// A lock file that cannot be opened: a folder sits where `<db>-factpipe.lock` goes (even root
    /// cannot open a folder for writing).
    private func blockedLock(_ work: LoadWorkspace) throws {
        try FileManager.default.createDirectory(
            atPath: work.databasePath + "-factpipe.lock", withIntermediateDirectories: false)
    }

    @Test func aLockFileThatCannotBeOpenedKeepsTheSystemErrorAsItsCause() throws {
        let work = try LoadWorkspace()
        try blockedLock(work)
        do {
            _ = try WriterLock(databasePath: work.databasePath, timeoutSeconds: 0, description: "test")
            Issue.record("the lock was taken")
        } catch {
            #expect(error.kind == .lockFile)
            #expect(error.sqliteCode == nil)
            let cause = try #require(error.underlying as? SystemError)
            #expect(cause.code == EISDIR)
            var info = stat()
            try #require(stat(work.databasePath + "-factpipe.lock", &info) == 0)
            let mode = String(info.st_mode & 0o777, radix: 8)
            #expect(error.description == "\(work.databasePath): cannot open database: cannot open its lock file "
                + "\(work.databasePath)-factpipe.lock (owned by \(UserName.of(uid: geteuid())), mode \(mode)): "
                + String(cString: strerror(EISDIR)))
        }
    }

    @Test func aLoadThatCannotTakeItsLockKeepsTheErrorInItsSummary() throws {
        let work = try LoadWorkspace()
        let input = try work.write("a.txt", "P(a).\n")
        try blockedLock(work)
        let summary = ImportPipeline(options: ImportOptions(inputs: [input], databasePath: work.databasePath)).run()
        #expect(summary.status == .failed)
        let error = try #require(summary.error as? StoreError)
        #expect(error.kind == .lockFile)
        #expect((error.underlying as? SystemError)?.code == EISDIR)
        // The message is derived from the error, and says the system's reason.
        #expect(summary.message == "\(error)")
        #expect(summary.message?.hasSuffix(String(cString: strerror(EISDIR))) == true)
    }

    @Test func aReadFailureStoppingTheLoadIsKeptAsTheReadError() throws {
        let work = try LoadWorkspace()
        // A gzip member cut short: the header and a few bytes of the deflate stream.
        var gzip: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]
        gzip += [0x0B, 0x70, 0xD4, 0x48, 0xD4, 0xD4, 0xE3]
        let input = try work.write("cut.txt.gz", gzip)
        let summary = work.load(input)
        #expect(summary.status == .failed)
        let error = try #require(summary.error as? ReadError)
        #expect(error.kind == .truncatedCompressedStream)
        #expect(error.source == input)
        #expect(summary.message == "\(error)")
    }

    @Test func undoOfAMissingOrUndoneLoadSaysSoByKind() throws {
        let work = try LoadWorkspace()
        let input = try work.write("a.txt", "P(a).\n")
        #expect(work.load(input).status == .done)
        do {
            _ = try LoadUndo.undo(loadID: 7, databasePath: work.databasePath)
            Issue.record("a load that does not exist was undone")
        } catch let error as StoreError {
            #expect(error.kind == .noSuchLoad)
            #expect(error.sqliteCode == nil)
            #expect(error.message == "there is no load 7")
        }
        _ = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath)
        do {
            _ = try LoadUndo.undo(loadID: 1, databasePath: work.databasePath)
            Issue.record("undone twice")
        } catch let error as StoreError {
            #expect(error.kind == .cannotUndo)
            #expect(error.message == "load 1 was already undone")
        }
    }

    @Test func aPathThatCannotBeADatabaseIsNotASQLiteError() throws {
        let work = try LoadWorkspace()
        for path in [work.path(""), work.path("missing/kb.sqlite"), ":memory:", "file:kb.sqlite"] {
            do throws(StoreError) {
                try FactDatabase.checkWritable(path: path, mustExist: false)
                Issue.record("\(path) was accepted")
            } catch {
                #expect(error.kind == .unusablePath, "\(path)")
                #expect(error.sqliteCode == nil, "\(path)")
            }
        }
        do throws(StoreError) {
            _ = try ReadOnlyDatabase.open(path: work.path("none.sqlite"), cacheKiB: 1024, busyTimeoutMilliseconds: 0)
            Issue.record("a missing file was opened")
        } catch {
            #expect(error.kind == .unusablePath)
            #expect(error.message == "cannot open database: no such file")
        }
    }
}
