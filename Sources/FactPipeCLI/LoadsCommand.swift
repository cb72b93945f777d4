import ArgumentParser
import FactPipe

struct LoadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loads",
        abstract: "List the load ledger: what was loaded, when, with which counts and status.",
        discussion: """
            Example:
              factpipe loads --db kb.sqlite
              factpipe loads --db kb.sqlite --json | jq '.[] | select(.status != "done")'
              factpipe loads --db kb.sqlite --last 20
            """
    )

    @Option(name: .long, help: "The database.")
    var db: String

    @Option(parsing: .unconditional, help: "Only the newest N loads (a ledger of years of nightly runs is long).")
    var last: Int?

    @Flag(help: "Print a JSON array on standard output.")
    var json = false

    func validate() throws {
        try PathArguments.checkDatabase(db, postgreSQL: .supported)
        if let last, last < 1 { throw ValidationError("--last must be at least 1") }
    }

    func run() throws {
        // As `query | head`: a reader that stops ends the command by SIGPIPE once the ledger is closed.
        ClosedOutput.deferSIGPIPE()
        let output = BufferedFileOutput(descriptor: 1, name: "-", capacity: 64 * 1024)
        do {
            let running = json ? try printJSON(to: output) : try printTable(to: output)
            try output.flush()
            // A dashboard or a person reading `running` took a killed load for a live one.
            for load in LoadRecord.stopped(running, databasePath: db) {
                Standard.error("factpipe: load \(load.id) says running, but no process holds the database's writer lock: "
                    + "it was stopped (a kill or a crash); the next load, `--resume` or `undo` completes it")
            }
        } catch {
            ClosedOutput.endIfReaderIsGone()
            throw CommandFailure.exit("loads", error, json: json)
        }
    }

    /// The JSON array, a load at a time: the whole ledger as one document took 312 MB at 100,000 loads.
    /// Returns the loads that say `running`.
    private func printJSON(to output: BufferedFileOutput) throws -> [LoadRecord] {
        try output.write("[")
        var first = true
        var running: [LoadRecord] = []
        try LoadRecord.each(databasePath: db, last: last) { load in
            try output.write((first ? "" : ",") + TerminalText.jsonEscaped(load.jsonDocument.text))
            first = false
            if load.status == .running { running.append(load) }
        }
        try output.write("]\n")
        return running
    }

    /// The table: the loads are held to size its columns, each line made as it is written. Returns the loads
    /// that say `running`. A `staged` column is there when a load has records committed but not yet merged (a
    /// load running or stopped): without it, its counts did not add up.
    private func printTable(to output: BufferedFileOutput) throws -> [LoadRecord] {
        let loads = try LoadRecord.all(databasePath: db, last: last)
        let showsStaged = loads.contains { $0.staged != 0 }
        let header = ["id", "status", "records", "inserted", "updated", "dupl.", "rejected"]
            + (showsStaged ? ["staged"] : []) + ["started", "source"]
        func cells(_ load: LoadRecord) -> [String] {
            ["\(load.id)", load.status.rawValue, Format.count(load.records), Format.count(load.inserted),
             Format.count(load.updated), Format.count(load.duplicates), Format.count(load.rejected)]
                + (showsStaged ? [Format.count(load.staged)] : [])
                + [TerminalText.escaped(String(load.startedAt.prefix(19))), TerminalText.escaped(load.source)]
        }
        var widths = header.map(\.count)
        for load in loads {
            for (index, cell) in cells(load).enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        try output.write(Table.line(header, widths: widths) + "\n")
        for load in loads { try output.write(Table.line(cells(load), widths: widths) + "\n") }
        return loads.filter { $0.status == .running }
    }
}

extension LoadRecord {
    /// The ledger row as one JSON object, keys in the ledger's column order.
    var jsonDocument: JSONDocument {
        [
            "id": .int(Int(id)), "source": .string(source), "size": .optional(size), "sha256": .optional(sha256),
            "format": .optional(format), "compression": .optional(compression),
            "conflict_policy": .string(conflictPolicy), "started_at": .string(startedAt),
            "finished_at": .optional(finishedAt), "status": .string(status.rawValue), "records": .int(records),
            "inserted": .int(inserted), "updated": .int(updated), "duplicates": .int(duplicates),
            "rejected": .int(rejected), "warnings": .int(warnings), "staged": .int(staged),
            "checkpoint_offset": .int(Int(checkpointOffset)),
            "checkpoint_line": .int(checkpointLine), "message": .optional(message),
        ]
    }
}

/// Plain aligned text tables for standard output.
enum Table {
    /// One line of a table whose columns are `widths` wide (the last cell is not padded).
    static func line(_ cells: [String], widths: [Int]) -> String {
        cells.enumerated().map { i, cell in
            i == cells.count - 1 || i >= widths.count
                ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
        }.joined(separator: "  ")
    }
}
