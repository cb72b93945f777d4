/// One row of a `facts` table as a lookup returns it.
///
/// On a factpipe database every field comes from its column. On another program's database the
/// fields its table lacks are nil, and `predicate`, `subject` and `object` come from their columns
/// when those are set, else from the statement (the predicate is the text before `(`).
public struct StoredFact: Sendable, Equatable {
    /// The row id on a factpipe database; nil on another program's.
    public var id: Int64?
    public var statement: String
    public var predicate: String
    public var subject: String?
    public var object: String?
    public var confidence: Double?
    public var source: String?
    /// The stored JSON text of `context`.
    public var context: String?
    /// The stored JSON text of `fact_metadata`.
    public var metadata: String?
    public var createdAt: String?
    /// Why the row would not load back as read (another program wrote a confidence that is no number, or
    /// text that is not UTF-8), or nil; `query` refuses to print such a row as NDJSON or CSV.
    public var unloadable: String?
    /// The stored confidence as it is when it is no number (another program's text or BLOB), for a table
    /// to show: read as a number, `high` showed as 0.0 and `0.9abc` as 0.9.
    public var confidenceText: String?

    /// Creates a fact from its fields.
    public init(
        id: Int64? = nil, statement: String, predicate: String, subject: String? = nil, object: String? = nil,
        confidence: Double? = nil, source: String? = nil, context: String? = nil, metadata: String? = nil,
        createdAt: String? = nil
    ) {
        self.id = id
        self.statement = statement
        self.predicate = predicate
        self.subject = subject
        self.object = object
        self.confidence = confidence
        self.source = source
        self.context = context
        self.metadata = metadata
        self.createdAt = createdAt
    }
}

/// A lookup of facts by predicate, subject, object or statement; the criteria given must all hold.
///
/// On a factpipe database each criterion is an equality on an indexed column (the statement's unique
/// index, `(subject, predicate)`); a predicate alone is the range `P(` to `P)` of the statement's index,
/// and `object` alone has no index and scans. On
/// another program's database the statement decides where its columns are empty (see
/// `StoredFact`): only rows whose column holds another value are left out, and every other row is
/// judged by its statement as the grammar reads it, in whatever spelling it is stored.
public struct FactQuery: Sendable, Equatable {
    public var predicate: String?
    public var subject: String?
    public var object: String?
    /// A statement in any spelling the grammar accepts; it is canonicalised before the lookup.
    public var statement: String?
    /// Most facts returned; nil for all.
    public var limit: Int?

    /// Creates a query; with no criteria it lists facts in table order.
    public init(
        predicate: String? = nil, subject: String? = nil, object: String? = nil, statement: String? = nil,
        limit: Int? = 100
    ) {
        self.predicate = predicate
        self.subject = subject
        self.object = object
        self.statement = statement
        self.limit = limit
    }

    /// The statement in canonical form, or nil when none was given.
    /// - Throws: `FactQueryError.invalidStatement` when the grammar refuses it.
    public func canonicalStatement() throws(FactQueryError) -> String? {
        guard let statement else { return nil }
        do {
            // Under the limits any stored fact may have been loaded with (`--max-args 20`, a longer statement).
            return try StatementParser.parse(statement, limits: ForeignFactRow.lenientLimits).canonical
        } catch {
            throw .invalidStatement(statement, error)
        }
    }

    /// The query with its predicate, subject and object in the form facts store them: a predicate
    /// as the grammar writes a name, a subject or object as the canonical text of one argument (NFC,
    /// one space for each run of whitespace in bare text, `\"` for a quote inside quotes). A value
    /// the grammar does not read as one name or one term is kept as given.
    public func canonicalized() -> FactQuery {
        var query = self
        query.predicate = predicate.map(Self.canonicalPredicate)
        query.subject = subject.map(Self.canonicalTerm)
        query.object = object.map(Self.canonicalTerm)
        return query
    }

    /// `value` as the grammar writes a predicate; as given when the grammar reads no name in it.
    static func canonicalPredicate(_ value: String) -> String {
        if isPlainName(value) { return value }
        return (try? StatementParser.parse(value + "(x)", limits: ForeignFactRow.lenientLimits))?.predicate ?? value
    }

    /// `value` as the canonical text of one argument; as given when the grammar reads no one term in it.
    static func canonicalTerm(_ value: String) -> String {
        if isPlainName(value) { return value }
        guard let parsed = try? StatementParser.parse("P(" + value + ")", limits: ForeignFactRow.lenientLimits),
            parsed.args.count == 1
        else { return value }
        return parsed.args[0]
    }

    /// True for ASCII letters, digits and `_` alone: text the canonical form writes as it is.
    static func isPlainName(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F
        }
    }

    /// Runs the lookup on the database at `path`, handing each fact to `body` as it is read (until
    /// `stopWhen` says to stop: a reader of the output went away), and returns how many there were. Predicate, subject and object are compared in canonical form
    /// (`canonicalized()`), so `--subject 'a  b'` finds `P(a b).`.
    /// - Throws: `FactQueryError` for a statement the grammar refuses or a database that cannot be
    ///   read.
    @discardableResult
    public func run(
        databasePath path: String, settings: DatabaseSettings = .init(), stopWhen: () -> Bool = { false },
        _ body: (StoredFact) -> Void
    ) throws(FactQueryError) -> Int {
        let canonical = try canonicalStatement()
        do {
            let database = try ReadableFactDatabase(path: path, settings: settings)
            return try FactLookup(database: database).find(
                canonicalized(), canonicalStatement: canonical, stopWhen: stopWhen, body)
        } catch {
            throw .store(error)
        }
    }

    /// Runs the lookup on a factpipe database in PostgreSQL, as `run(databasePath:_:)` does on SQLite;
    /// facts come in id order.
    /// - Throws: `FactQueryError` for a statement the grammar refuses, or `.server` when the server
    ///   cannot be reached, the database has no factpipe schema, or a query fails.
    @discardableResult
    public func run(
        address: PostgreSQLAddress, stopWhen: () -> Bool = { false }, _ body: (StoredFact) -> Void
    ) throws(FactQueryError) -> Int {
        let canonical = try canonicalStatement()
        do throws(PostgreSQLError) {
            let connection = try PostgreSQLConnection(address: address, applicationName: "factpipe query")
            return try PostgreSQLFactLookup(connection: connection)
                .find(canonicalized(), canonicalStatement: canonical, stopWhen: stopWhen, body)
        } catch {
            throw .server(error)
        }
    }
}

/// Why a lookup could not run.
public enum FactQueryError: Error, Sendable, CustomStringConvertible {
    /// The `--statement` given is not a statement; the grammar's reason is attached.
    case invalidStatement(String, StatementSyntaxError)
    /// The database could not be opened or read.
    case store(StoreError)
    /// The PostgreSQL server could not be reached or read.
    case server(PostgreSQLError)

    public var description: String {
        switch self {
        case .invalidStatement(let text, let error): "not a statement: \(StatementCharacters.printable(text)): \(error)"
        case .store(let error): "\(error)"
        case .server(let error): "\(error)"
        }
    }
}
