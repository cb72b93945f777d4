import Foundation
import Testing

@testable import FactPipe

/// Which `--db` values select PostgreSQL, and how an address is shown: never with its password.
@Suite struct PostgreSQLAddressTests {
    @Test(arguments: [
        "postgresql://kb@db.example.com:5432/knowledge", "postgres://db/kb", "POSTGRESQL://db/kb", "postgresql://",
    ])
    func urlsSelectPostgreSQL(text: String) {
        #expect(PostgreSQLAddress.isPostgreSQL(text))
        #expect(DatabaseFile.problem(text) == nil, "the SQLite path checks do not refuse it")
    }

    @Test(arguments: ["kb.sqlite", "host=db dbname=kb", "./postgresql://x", "postgresql:/x", ""])
    func anythingElseIsASQLitePath(text: String) {
        #expect(!PostgreSQLAddress.isPostgreSQL(text))
        #expect(PostgreSQLAddress(text) == nil)
    }

    @Test func theDescriptionHasNoPassword() throws {
        let address = try #require(PostgreSQLAddress("postgresql://kb:s3cret@db.example.com:6543/knowledge?sslmode=require"))
        #expect(address.description == "postgresql://kb@db.example.com:6543/knowledge")
        #expect(PostgreSQLAddress.redacted("postgresql://db/kb?password=s3cret&user=kb") == "postgresql://kb@db/kb")
        #expect(PostgreSQLAddress.redacted("kb.sqlite") == "kb.sqlite")
    }

    @Test func aURLLibpqCannotParseIsShownWithoutItsPassword() {
        let text = "postgresql://kb:s3%zzcret@db/kb?password=other&x=1"
        let shown = PostgreSQLAddress.redacted(text)
        #expect(!shown.contains("s3") && !shown.contains("other"), "\(shown)")
        #expect(PostgreSQLAddress.writtenPasswords(text) == ["s3%zzcret", "other"])
    }

    @Test func aPasswordWithAnUnencodedAtSignIsNeverShownInPart() {
        let text = "postgresql://alice:p@ss@db.example/kb"
        #expect(PostgreSQLAddress.hasAmbiguousUserInfo(text))
        #expect(!PostgreSQLAddress.hasAmbiguousUserInfo("postgresql://alice:p%40ss@db.example/kb"))
        let shown = PostgreSQLAddress.redacted(text)
        #expect(!shown.contains("p@ss") && !shown.contains("ss@"), "\(shown)")
        #expect(shown == "postgresql://alice@db.example/kb")
        // A `?` in such a password ends the authority early: libpq's error quoted `cret?x` as host and query.
        for text in ["postgresql://u:se@cret?x@127.0.0.1:5432/kb", "postgresql://u:p@ss:w/o?r@db/kb"] {
            #expect(PostgreSQLAddress.hasAmbiguousUserInfo(text), "\(text)")
            let shown = PostgreSQLAddress.redacted(text)
            #expect(!shown.contains("cret") && !shown.contains("?x") && !shown.contains("ss:w"), "\(shown)")
        }
        #expect(PostgreSQLAddress.writtenPasswords("postgresql://u:se@cret?x@127.0.0.1:5432/kb") == ["se@cret?x"])
        #expect(!PostgreSQLAddress.hasAmbiguousUserInfo("postgresql://u:secret@db/kb?application_name=me@host"))
        #expect(!PostgreSQLAddress.hasAmbiguousUserInfo("postgresql://db?user=a@b"))
        // A query's own `@` and `/` are a query's: an application name, a certificate's path.
        for text in ["postgresql://u@h:5432/db?application_name=me@corp/etl&password=pw",
                     "postgresql://u@h/db?sslmode=disable&sslrootcert=/home/me@corp/ca.pem",
                     "postgresql://u:pw@h?passfile=/home/me@corp/.pgpass"] {
            #expect(!PostgreSQLAddress.hasAmbiguousUserInfo(text), "\(text)")
        }
        // A `?` before any `@`, or a query key no keyword: libpq cannot read them, and its error quoted the
        // part it could not (`p?a/b`, `c?x=y`, `c=d`): shown as user name and what follows the last `@`.
        for (text, secret) in [("postgresql://u:p?a/b@127.0.0.1:1/db", "a/b"), ("postgresql://u:se@c?x=y@127.0.0.1:1/db", "c?x"),
                               ("postgresql://u:a?b@c=d@127.0.0.1:1/db", "c=d")] {
            #expect(!PostgreSQLAddress.isReadableByLibpq(text) || PostgreSQLAddress.hasAmbiguousUserInfo(text), "\(text)")
            let shown = PostgreSQLAddress.redacted(text)
            #expect(!shown.contains(secret) && shown == "postgresql://u@127.0.0.1:1/db", "\(shown)")
        }
        #expect(PostgreSQLAddress.isReadableByLibpq("postgresql://u:p%3Fa%2Fb@127.0.0.1:1/db"))
        // And a `password=` is blanked however the rest reads.
        #expect(!PostgreSQLAddress.blankingPassword("postgresql://u:p@ss@h/db?password=pw").contains("pw"))
        #expect(!PostgreSQLAddress.redacted("postgresql://u:p@ss@h/db?x=1&password=pw").contains("pw"))
    }

    /// Redaction runs over whole `--json` objects and reports: each URL loses its password, and the JSON stays
    /// JSON. Cut at spaces alone, one "word" of compact JSON ran across keys, and a `password=` in a fact's source
    /// (which `stats --json` lists) or two `@` in one stretch blanked the rest of the object.
    @Test func redactionKeepsJSONWhole() throws {
        let object: [String: Any] = [
            "sources": ["https://feed.example/x?user=bot&password=abc", "https://a.org/", "ops@corp.com"],
            "path": "postgresql://kb:PwSecret@127.0.0.1:1/kb",
            "message": "postgresql://kb:PwSecret@127.0.0.1:1/kb: cannot open\nline two password=xyz",
            "facts": 3,
        ]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        let redacted = PostgreSQLAddress.redactingURLs(in: text)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(redacted.utf8)) as? [String: Any], "\(redacted)")
        #expect(!redacted.contains("PwSecret") && !redacted.contains("abc") && !redacted.contains("xyz"), "\(redacted)")
        #expect(parsed["facts"] as? Int == 3)
        #expect(parsed["path"] as? String == "postgresql://kb@127.0.0.1:1/kb")
        #expect(parsed["sources"] as? [String] == ["https://feed.example/x?user=bot&password=…", "https://a.org/", "ops@corp.com"])
        #expect((parsed["message"] as? String)?.hasPrefix("postgresql://kb@127.0.0.1:1/kb: cannot open\nline two") == true)
    }

    /// libpq ends the user info at the first `/`: such a password would become host, port and database,
    /// and be shown whole by a parse of it.
    @Test func aPasswordWithAnUnencodedSlashIsNeverShownInPart() {
        let text = "postgresql://app:Ab3/xY9+@db.example.com/kb?sslmode=require"
        #expect(PostgreSQLAddress.hasAmbiguousUserInfo(text))
        #expect(!PostgreSQLAddress.hasAmbiguousUserInfo("postgresql://app:Ab3%2FxY9+@db.example.com/kb"))
        #expect(!PostgreSQLAddress.hasAmbiguousUserInfo("postgresql://db.example.com/kb?options=a@b"))
        let shown = PostgreSQLAddress.redacted(text)
        #expect(!shown.contains("Ab3") && !shown.contains("xY9"), "\(shown)")
        #expect(PostgreSQLAddress.writtenPasswords(text) == ["Ab3/xY9+"])
    }

    /// libpq reads only a lower-case scheme as a URL; factpipe accepts any case and passes it lowered.
    @Test func theSchemeReachesLibpqInLowerCase() throws {
        let address = try #require(PostgreSQLAddress("Postgres://kb:s3cret@db/kb"))
        #expect(address.connectionString == "postgres://kb:s3cret@db/kb")
        #expect(address.description == "postgresql://kb@db/kb")
    }

    @Test func aMessageQuotingThePasswordIsScrubbed() throws {
        let address = try #require(PostgreSQLAddress("postgresql://kb:p%40ss@db/kb"))
        let scrubbed = PostgreSQLConnection.scrub("bad token \"p%40ss\" or p@ss in postgresql://kb:p%40ss@db/kb", address)
        #expect(!scrubbed.contains("p%40ss") && !scrubbed.contains("p@ss"), "\(scrubbed)")
    }

    @Test func copyRowsEscapeWhatCOPYTextFormatGivesAMeaning() {
        var row = PostgreSQLCopyRow()
        row.field("a\tb\nc\\d\re", first: true)
        row.field(nil as String?)
        row.field("\\N")
        row.endRow()
        #expect(String(decoding: row.bytes, as: UTF8.self) == "a\\tb\\nc\\\\d\\re\t\\N\t\\\\N\n")
    }
}
