import Foundation
import Testing

/// A SQLite file of another program is recognised by its schema, not its `user_version`, and no
/// command alters it: not a byte of it, and no file appears beside it.
@Suite struct ForeignDatabaseCommandTests {
    /// Another program's database that claims user_version 1: no factpipe table (or one of the
    /// same name without factpipe's columns).
    private func foreignDatabase(_ work: CLIWorkspace, name: String, schema: String) throws -> String {
        let path = work.path(name)
        try Factpipe.tool("/usr/bin/sqlite3", [path, """
            PRAGMA user_version = 1;
            \(schema)
            """])
        return path
    }

    @Test(arguments: [
        "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES ('keep me');",
        "CREATE TABLE facts(id INTEGER PRIMARY KEY, statement TEXT); CREATE TABLE factpipe_loads(id INTEGER);"
            + " INSERT INTO facts(statement) VALUES ('IsA(a, b).');",
    ])
    func noCommandAltersIt(schema: String) throws {
        let work = try CLIWorkspace()
        let input = try work.write("in.txt", "IsA(Dog, Animal).\n")
        let database = try foreignDatabase(work, name: "other.db", schema: schema)
        let before = try sha256sum(database)
        let commands: [[String]] = [
            ["import", input], ["optimize"], ["optimize", "--vacuum"], ["stats"], ["query"], ["loads"],
            ["undo", "1"], ["export", "-o", work.path("out/x.ndjson")], ["backup", "--to", work.path("out")],
        ]
        try FileManager.default.createDirectory(atPath: work.path("out"), withIntermediateDirectories: true)
        for command in commands {
            let run = try Factpipe.run(command + ["--db", database])
            if ["import", "optimize", "undo"].contains(command[0]) {
                #expect(run.status == 1, "\(command): \(run.stderr)")
                #expect(run.stderr.contains("not a factpipe database"), "\(command): \(run.stderr)")
            }
            #expect(try sha256sum(database) == before, "\(command) changed the database")
            let names = try FileManager.default.contentsOfDirectory(atPath: work.url.path).sorted()
            #expect(names == ["in.txt", "other.db", "out"], "\(command) left \(names)")
        }
        #expect(try SQLiteFile.int(database, "PRAGMA user_version") == 1)
        #expect(try SQLiteFile.strings(database, "PRAGMA journal_mode") == ["delete"])
    }
}
