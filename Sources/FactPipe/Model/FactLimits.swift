/// The governance limits a fact must respect; every one can be changed per load.
public struct FactLimits: Sendable, Hashable {
    /// Longest predicate name, in characters.
    public var maxPredicateLength: Int = 100
    /// Most top-level arguments a statement may have.
    public var maxArgs: Int = 10
    /// Longest canonical argument text, in characters.
    public var maxArgLength: Int = 500
    /// Longest statement, in bytes of UTF-8.
    public var maxStatementBytes: Int = 10 * 1024
    /// Longest input record (an NDJSON line, a CSV record, a text line), in bytes.
    public var maxRecordBytes: Int = 1 << 20
    /// Keep control and invisible characters in a statement as they are instead of refusing it. Only a
    /// restore sets it: a fact stored by an earlier release (kept as it was by the migration to the
    /// current canonical form) comes back from its archive as it was stored.
    public var keepsControlAndInvisibleCharacters = false

    public init() {}

    /// The defaults of the knowledge base whose dumps factpipe carries.
    public static let `default` = FactLimits()
}
