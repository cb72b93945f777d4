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
            """
    )

    @Option(name: .long, help: "The database.")
    var db: String

    @Flag(help: "Print a JSON array on standard output.")
    var json = false

    func validate() throws {
        try PathArguments.checkDatabase(db, postgreSQL: .supported)
    }

    func run() throws {
        let loads: [LoadRecord]
        do {
            loads = try LoadRecord.all(databasePath: db)
        } catch {
            throw CommandFailure.exit("loads", error, json: json)
        }
        if json {
            Standard.output(TerminalText.jsonEscaped("[" + loads.map(\.jsonObject).joined(separator: ",") + "]"))
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
    var jsonObject: String {
        func q(_ text: String?) -> String { text.map(JSONQuote.quote) ?? "null" }
        return "{\"id\":\(id),\"source\":\(q(source)),\"size\":\(size.map(String.init) ?? "null"),"
            + "\"sha256\":\(q(sha256)),\"format\":\(q(format)),\"compression\":\(q(compression)),"
            + "\"conflict_policy\":\(q(conflictPolicy)),\"started_at\":\(q(startedAt)),"
            + "\"finished_at\":\(q(finishedAt)),\"status\":\(q(status.rawValue)),\"records\":\(records),"
            + "\"inserted\":\(inserted),\"updated\":\(updated),\"duplicates\":\(duplicates),"
            + "\"rejected\":\(rejected),\"warnings\":\(warnings),\"checkpoint_offset\":\(checkpointOffset),"
            + "\"checkpoint_line\":\(checkpointLine),\"message\":\(q(message))}"
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

/// JSON string quoting for the CLI's hand-built objects.
enum JSONQuote {
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
