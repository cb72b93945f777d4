import ArgumentParser
import FactPipe
#if canImport(Glibc)
    import Glibc
#endif

/// `factpipe query`: facts by predicate, subject, object or statement, through the indexes.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Look facts up by predicate, subject, object or statement.",
        discussion: """
            The criteria given must all hold. A statement is put in canonical form first, so any \
            spelling the grammar accepts finds it. On a factpipe database the lookups use the \
            statement index (a predicate alone too: a canonical statement starts with its predicate) \
            and the (subject, predicate) one; an object alone has no index and scans. Another program's database (such as hexagonal_kb.db) is opened read-only. In \
            PostgreSQL the same lookups use its indexes, and facts come in id order.

            Output goes to standard output: an aligned table, NDJSON or CSV in the shapes \
            `factpipe import` reads. With no criteria, the first facts are listed.

            Examples:
              factpipe query --db kb.sqlite --predicate HasPart --subject Computer
              factpipe query --db kb.sqlite --statement 'HasPart( Computer , CPU )' --format ndjson
              factpipe query --db hexagonal_kb.db --subject BlackHole --format csv --limit 0
              factpipe query --db postgresql://kb@db.example.com/knowledge --subject Computer
            """
    )

    @Option(name: .long, help: "The database to read: a SQLite file or a postgresql:// URL.")
    var db: String

    @Option(help: "Facts with this predicate.")
    var predicate: String?

    @Option(help: "Facts with this first argument.")
    var subject: String?

    @Option(help: "Facts with this second argument.")
    var object: String?

    @Option(help: "This statement, in any spelling the grammar accepts.")
    var statement: String?

    @Option(parsing: .unconditional, help: "Most facts to print; 0 for all.")
    var limit: Int = 100

    @Option(help: "Output format: table, ndjson or csv.")
    var format: OutputFormat = .table

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, ndjson, csv
    }

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
        try PathArguments.checkDatabase(db, postgreSQL: .supported)
        for (flag, value) in [("--predicate", predicate), ("--subject", subject), ("--object", object)] {
            if let value, value.isEmpty { throw ValidationError("\(flag) needs a value") }
        }
        if let statement {
            // Read as the lookup reads it: under no limit a load may have raised (`--max-args 20`).
            do {
                _ = try FactQuery(statement: statement).canonicalStatement()
            } catch let .invalidStatement(_, error) {
                throw ValidationError("--statement is not a statement: \(error)")
            } catch {
                throw ValidationError("--statement is not a statement: \(error)")
            }
        }
    }

    func run() throws {
        let query = FactQuery(
            predicate: predicate, subject: subject, object: object, statement: statement,
            limit: limit == 0 ? nil : limit)
        ClosedOutput.deferSIGPIPE()
        let stop = ReaderStop()
        // A signal ends also a wait for a reader that stopped reading (the pipe full): only `kill -9` did, and
        // meanwhile the query's read kept a load's log from being copied into the database.
        let output = BufferedFileOutput(
            descriptor: 1, name: "-", capacity: 64 * 1024, isCancelled: { stop.isStopping })
        var writeError: (any Error)?
        func emit(_ line: String) {
            guard writeError == nil else { return }
            do { try output.write(line + "\n") } catch { writeError = error }
        }
        // Stored text never drives a terminal: table cells are escaped (`TextTable`), NDJSON writes
        // what JSON leaves raw as `\uXXXX` (the same value), and CSV is escaped on a terminal only.
        let escapesCSV = isatty(1) == 1
        if format == .csv { emit(StoredFact.csvHeader) }
        let table = FactTablePrinter(emit: emit)
        let count: Int
        var unloadable: String?
        func write(_ fact: StoredFact) {
            // NDJSON and CSV are what import reads back: a value they would change is refused, as `export`
            // refuses it, rather than printed as another fact.
            if format != .table, unloadable == nil, let why = fact.unloadable ?? fact.importRefusal {
                // Another program's table gives no id, and its statement may be empty (NULL).
                // A statement of 200 KB was printed whole in the message: its first 100 characters name it.
                let shown = fact.statement.count > 100 ? String(fact.statement.prefix(100)) + "…" : fact.statement
                let name = [fact.id.map { "fact \($0)" } ?? "a fact", TerminalText.escaped(shown)]
                unloadable = name.filter { !$0.isEmpty }.joined(separator: " ") + ": "
                    + "\(why), so its \(format.rawValue) would not load back as the same fact; correct it in the "
                    + "database (plain SQL wrote it), or see it with --format table"
            }
            guard unloadable == nil else { return }
            switch format {
            case .table: table.add(fact)
            case .ndjson: emit(TerminalText.jsonEscaped(fact.ndjsonLine))
            case .csv: emit(escapesCSV ? TerminalText.escaped(fact.csvRow) : fact.csvRow)
            }
        }
        do {
            if let address = PostgreSQLAddress(db) {
                count = try query.run(address: address, stopWhen: { writeError != nil || stop.isStopping }, write)
            } else {
                count = try query.run(databasePath: db, stopWhen: { writeError != nil || stop.isStopping }, write)
            }
        } catch {
            ClosedOutput.endIfReaderIsGone()
            throw CommandFailure.exit("query", stop.failure(error))
        }
        // What was read before the signal is written out, whole lines, and then the command ends as asked.
        defer { try? output.flush() }
        try stop.checkNotStopped("query", json: false)
        table.finish()
        do {
            if let writeError { throw writeError }
            try output.flush()
        } catch {
            ClosedOutput.endIfReaderIsGone()
            throw CommandFailure.exit("query", error)
        }
        if let unloadable { throw CommandFailure.exit("query", CommandFailure.Problem(unloadable)) }
        if format == .table {
            Standard.error(
                count == 0 ? "no facts matched" : "\(Format.count(count, "fact"))" + (count == limit ? " (--limit)" : ""))
        }
    }
}
