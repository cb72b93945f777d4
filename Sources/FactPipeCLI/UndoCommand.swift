import ArgumentParser
import FactPipe

struct UndoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo",
        abstract: "Remove the facts that one load inserted (see `factpipe loads` for the ids).",
        discussion: """
            Deletes the facts whose load_id is LOAD_ID and that no later load replaced or updated; facts a
            later load changed are kept, and facts LOAD_ID only updated keep their new values. The ledger
            row is marked undone.

            Example:
              factpipe undo 7 --db kb.sqlite
            """
    )

    @Argument(help: "The load to undo.")
    var loadID: Int64

    @Option(name: .long, help: "The database.")
    var db: String

    @Option(help: "Seconds to wait for a running load to finish.")
    var wait: Double = 60

    @Flag(help: "Print one JSON object on standard output.")
    var json = false

    func validate() throws {
        try PathArguments.checkDatabase(db)
    }

    func run() throws {
        do {
            let result = try LoadUndo.undo(loadID: loadID, databasePath: db, lockTimeoutSeconds: wait)
            if json {
                Standard.output("{\"load_id\":\(loadID),\"deleted\":\(result.deleted),"
                    + "\"kept_changed_later\":\(result.keptChangedLater),\"left_updated\":\(result.leftUpdated)}")
            }
            Standard.error("factpipe: load \(loadID) undone: \(Format.count(result.deleted, "fact")) deleted, "
                + "\(Format.count(result.keptChangedLater)) kept (changed by a later load), "
                + "\(Format.count(result.leftUpdated)) updated facts left as they are")
        } catch {
            Standard.error("factpipe: \(error)")
            throw ExitCode(FactPipeExit.failure)
        }
    }
}
