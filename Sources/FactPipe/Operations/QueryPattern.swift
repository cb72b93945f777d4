/// The lookups `scale-test` times: the ones the knowledge base makes most.
public enum QueryPattern: String, Sendable, CaseIterable, Equatable {
    /// The facts with one predicate and one subject: `HasPart(Computer, …)`.
    case predicateSubject = "predicate_subject"
    /// Every fact about one subject.
    case subject
    /// Is this exact (canonical) statement stored?
    case statement
    /// How many facts use one predicate.
    case countByPredicate = "count_by_predicate"

    /// The key a pattern is run with: the parts it uses are set.
    public struct Key: Sendable, Equatable {
        public var predicate: String
        public var subject: String
        public var statement: String

        /// Creates a key from the parts of one fact (or of one that does not exist).
        public init(predicate: String, subject: String, statement: String) {
            self.predicate = predicate
            self.subject = subject
            self.statement = statement
        }
    }

    /// A phrase for tables: `predicate + subject`, `count by predicate`.
    public var title: String {
        switch self {
        case .predicateSubject: "predicate + subject"
        case .subject: "subject"
        case .statement: "statement"
        case .countByPredicate: "count by predicate"
        }
    }
}
