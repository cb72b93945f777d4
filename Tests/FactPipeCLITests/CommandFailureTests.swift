import ArgumentParser
import FactPipe
import Foundation
import Testing

@testable import FactPipeCLI

/// The one mapping from an error to the line on standard error, the exit code and the `--json` object.
@Suite struct CommandFailureTests {
    private static let db = "/data/kb.sqlite"

    /// Every kind of database failure: the message is `path: reason`, the exit code 1.
    @Test(arguments: [
        (StoreError.Kind.sqlite(code: 11), "cannot read: database disk image is malformed"),
        (.unsupportedSchema, "database schema version 9 is not supported by this factpipe"),
        (.foreignDatabase, "not a factpipe database (no tables)"),
        (.interrupted, "interrupted while waiting for another load to finish (pid 1, import of a.txt)"),
        (.unusablePath, "cannot open database: it is a folder, not a database file"),
        (.noSuchLoad, "there is no load 7"),
        (.cannotUndo, "load 7 was already undone"),
        (.cannotResume, "a.txt cannot be resumed: it changed since load 3"),
        (.countsDoNotAddUp, "load 3 of a.txt: its counts do not add up"),
    ])
    func aStoreErrorIsItsPathAndReasonWithExitCode1(_ kind: StoreError.Kind, _ message: String) {
        let failure = CommandFailure(command: "undo", error: StoreError(kind: kind, path: Self.db, message: message))
        #expect(failure.message == "\(Self.db): \(message)")
        #expect(failure.exitCode == 1)
    }

    @Test func aBusyDatabaseIsNamedWithoutTheStatementThatWaited() {
        let error = StoreError(
            kind: .busy, path: Self.db, message: "database is locked", sql: "INSERT INTO facts VALUES (?1)")
        let failure = CommandFailure(command: "optimize", error: error)
        #expect(failure.message == "\(Self.db): database is locked")
        #expect(failure.exitCode == 1)
        // Any other kind keeps the statement.
        var other = error
        other.kind = .sqlite(code: 19)
        #expect(CommandFailure(command: "x", error: other).message.hasSuffix("(in: INSERT INTO facts VALUES (?1))"))
    }

    @Test func aLockFileFailureCarriesTheSystemsReasonIntoTheMessage() {
        let error = StoreError(
            kind: .lockFile, path: Self.db,
            message: "cannot open database: cannot create its lock file \(Self.db)-factpipe.lock",
            underlying: SystemError(code: EACCES))
        let failure = CommandFailure(command: "import", error: error)
        #expect(failure.message == "\(Self.db): cannot open database: cannot create its lock file "
            + "\(Self.db)-factpipe.lock: \(String(cString: strerror(EACCES)))")
        #expect(failure.exitCode == 1)
    }

    @Test func otherLibraryErrorsAreTheirDescriptionWithExitCode1() {
        let errors: [(any Error, String)] = [
            (ReadError(
                source: "in.ndjson.gz", kind: .truncatedCompressedStream, message: "gzip stream ends mid-member"),
             "in.ndjson.gz: gzip stream ends mid-member"),
            (SnapshotError(.truncated, path: "kb.ndjson.zst", "the file ends inside a compressed frame"),
             "kb.ndjson.zst: the file ends inside a compressed frame"),
            (PipelineFileError(path: "p.toml", line: 3, key: "database", message: "must be a string"),
             "p.toml:3: database: must be a string"),
            (FileOutputError(operation: .write, path: "r.json", code: ENOSPC, reason: "No space left on device"),
             "\(FileOutputError(operation: .write, path: "r.json", code: ENOSPC, reason: "No space left on device"))"),
            (CommandFailure.Problem("the integrity check found problems in kb.sqlite"),
             "the integrity check found problems in kb.sqlite"),
        ]
        for (error, message) in errors {
            let failure = CommandFailure(command: "export", error: error)
            #expect(failure.message == message)
            #expect(failure.exitCode == 1, "\(error)")
        }
    }

    @Test func usageErrorsExit64AndAnExitCodeIsKept() {
        let usage = CommandFailure(
            command: "run", error: CommandFailure.Usage(underlying: ValidationError("--db: it is a folder")))
        #expect(usage.message == "--db: it is a folder")
        #expect(usage.exitCode == 64)
        #expect(CommandFailure(command: "stats", error: ValidationError("--top must be 0 or more")).exitCode == 64)
        #expect(CommandFailure(command: "import", error: ExitCode(3)).exitCode == 3)
    }

    @Test func theJSONObjectIsTheCommandsOrTheArchivesShape() throws {
        let path = "we\"ird\\\u{2028}.sqlite"
        let store = CommandFailure(
            command: "loads", error: StoreError(kind: .noSuchLoad, path: path, message: "there is no load 7"))
        let object = try #require(
            JSONSerialization.jsonObject(with: Data(store.jsonObject.text.utf8)) as? [String: Any])
        #expect(object["command"] as? String == "loads")
        #expect(object["status"] as? String == "failed")
        #expect(object["exit_code"] as? Int == 1)
        #expect(object["error"] as? String == "\(path): there is no load 7")

        let archive = CommandFailure(command: "export", error: SnapshotError(.io, path: "out.ndjson", "cannot write"))
        let expected = #"{"command":"export","status":"failed","error":"io","path":"out.ndjson","message":"cannot write","exit_code":1}"#
        #expect(archive.jsonObject.text == expected)
    }
}
