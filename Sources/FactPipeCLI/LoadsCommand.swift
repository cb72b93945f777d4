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

    @Option(help: "Only the newest N loads (a ledger of years of nightly runs is long).")
    var last: Int?

    @Flag(help: "Print a JSON array on standard output.")
    var json = false

    func validate() throws {
        try PathArguments.checkDatabase(db, postgreSQL: .supported)
        if let last, last < 1 { throw ValidationError("--last must be at least 1") }
    }

    func run() throws {
        let loads: [LoadRecord]
        do {
            loads = try LoadRecord.all(databasePath: db, last: last)
        } catch {
            throw CommandFailure.exit("loads", error, json: json)
        }
        if json {
            Standard.output(TerminalText.jsonEscaped(JSONDocument.array(loads.map(\.jsonDocument)).text))
            return
        }
        let header = ["id", "status", "records", "inserted", "updated", "dupl.", "rejected", "started", "source"]
        let rows = loads.map { load in
            ["\(load.id)", load.status.rawValue, Format.count(load.records), Format.count(load.inserted),
             Format.count(load.updated), Format.count(load.duplicates), Format.count(load.rejected),
             String(load.startedAt.prefix(19)), load.source]
        }
        Standard.output(Table.render(header: header, rows: rows))
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
            "rejected": .int(rejected), "warnings": .int(warnings), "checkpoint_offset": .int(Int(checkpointOffset)),
            "checkpoint_line": .int(checkpointLine), "message": .optional(message),
        ]
    }
}

/// Plain aligned text tables for standard output.
enum Table {
    /// The table's lines; cells are printed through `TerminalText.escaped`.
    static func render(header: [String], rows: [[String]]) -> String {
        let rows = rows.map { $0.map(TerminalText.escaped) }
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
