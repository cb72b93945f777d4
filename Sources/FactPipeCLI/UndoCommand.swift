import ArgumentParser
import FactPipe

struct UndoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo",
        abstract: "Remove the facts that one load inserted (see `factpipe loads` for the ids).",
        discussion: """
            Deletes the facts LOAD_ID inserted that no other live (not undone) load also brought: a fact \
            another load brought too (as a duplicate, an update or a replacement) stays, and belongs to \
            that load from then on. Facts LOAD_ID only updated keep their new values (no history is \
            kept). The ledger row is marked undone.

            Example:
              factpipe undo 7 --db kb.sqlite
            """
    )

    @Argument(help: "The load to undo.")
    var loadID: Int64

    @Option(name: .long, help: "The database.")
    var db: String

    @Option(parsing: .unconditional, help: "Seconds to wait for a running load to finish.")
    var wait: Double = 60

    @Flag(help: "Print one JSON object on standard output.")
    var json = false

    func validate() throws {
        try PathArguments.checkDatabase(db, postgreSQL: .supported)
        // NaN compares false with everything: `>= 0` refuses it.
        guard wait >= 0 else { throw ValidationError("--wait must be 0 or more") }
    }

    func run() throws {
        let result: LoadUndo.Result
        // SQLite only, as for optimize: with PostgreSQL a signal ends the command and the server rolls back.
        let progress = ImportProgress()
        var trap: SignalTrap?
        var cleanup: InterruptCleanup?
        defer { withExtendedLifetime(cleanup) {} }
        do {
            if PostgreSQLAddress(db) == nil {
                trap = SignalTrap(progress: progress)
            } else {
                // The server rolls the undo back when the command ends; a signal ends it, with a cancel request
                // for what the server runs (a wait for another session's lock would hold the writer lock on).
                cleanup = InterruptCleanup()
            }
            result = try LoadUndo.undo(loadID: loadID, databasePath: db, lockTimeoutSeconds: wait, progress: progress)
        } catch let error as StoreError where error.kind == .interrupted {
            // Rolled back (or a wait for the writer lock ended): 130 or 143 as for a load.
            throw CommandFailure.exit(
                "undo", CommandFailure.Interrupted(underlying: error, code: FactPipeExit.stopped(by: trap?.receivedSignal)),
                json: json)
        } catch {
            throw CommandFailure.exit("undo", error, json: json)
        }
        let unknown = result.loadsWithUnknownDuplicates
        if json {
            let document: JSONDocument = [
                "load_id": .int(Int(loadID)), "deleted": .int(result.deleted),
                "kept_for_other_loads": .int(result.keptForOtherLoads), "left_updated": .int(result.leftUpdated),
                "loads_with_unknown_duplicates": .array(unknown.map { .int(Int($0)) }),
                "discarded_staged": .int(result.discardedStaged),
                "other_loads_left_staged": .array(result.otherLoadsLeftStaged.map { .int(Int($0)) }),
            ]
            Standard.json(document.text)
        }
        Standard.error("factpipe: load \(loadID) undone: \(Format.count(result.deleted, "fact")) deleted, "
            + "\(Format.count(result.keptForOtherLoads)) kept (another load also brought them), "
            + "\(Format.count(result.leftUpdated)) updated facts left as they are"
            + (result.discardedStaged > 0
                ? ", \(Format.count(result.discardedStaged, "staged record")) discarded unmerged" : ""))
        for (other, reason) in zip(result.otherLoadsLeftStaged, result.otherLoadsLeftStagedReasons) {
            Standard.error("factpipe: warning: load \(other)'s staged records still cannot be merged (\(reason)); "
                + "every load into this database fails on them until `factpipe undo \(other)` discards them")
        }
        if !unknown.isEmpty {
            Standard.error("factpipe: warning: loads \(unknown.map(String.init).joined(separator: ", ")) were made "
                + "before factpipe recorded which loads bring a fact; facts they brought only as duplicates may "
                + "be among those deleted")
        }
    }
}
