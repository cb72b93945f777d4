import ArgumentParser
import FactPipe

/// `factpipe stats`: what a database holds, how big it is, and what loaded it.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show facts, predicates, arities, sources, sizes, indexes and recent loads of a database.",
        discussion: """
            Reads the database without changing it. Besides factpipe databases it reads another \
            program's database that has a facts table with a statement column (such as the \
            knowledge base's hexagonal_kb.db), opened read-only without side files; predicates, \
            subjects and arities missing from its columns are read from the statements.

            Examples:
              factpipe stats --db kb.sqlite
              factpipe stats --db hexagonal_kb.db --json --top 20
              factpipe stats --db postgresql://kb@db.example.com/knowledge
            """
    )

    @Option(name: .long, help: "The database to describe: a SQLite file or a postgresql:// URL.")
    var db: String

    @Option(parsing: .unconditional, help: "How many predicates and sources to list.")
    var top: Int = 10

    @Option(parsing: .unconditional, help: "How many recent loads to list.")
    var loads: Int = 10

    @Flag(help: "Print one JSON object on standard output.")
    var json = false

    func validate() throws {
        guard top >= 0, loads >= 0 else { throw ValidationError("--top and --loads must be 0 or more") }
        try PathArguments.checkDatabase(db, postgreSQL: .supported)
    }

    func run() throws {
        let stop = ReaderStop()
        let stats: DatabaseStats
        do {
            if let address = PostgreSQLAddress(db) {
                stats = try DatabaseStats.collect(address: address, top: top, loads: loads)
            } else {
                stats = try DatabaseStats.collect(path: db, top: top, loads: loads)
            }
        } catch {
            throw CommandFailure.exit("stats", stop.failure(error), json: json)
        }
        try stop.checkNotStopped("stats", json: json)
        if json { Standard.json(stats.json.text) } else { Standard.output(stats.humanText) }
    }
}
