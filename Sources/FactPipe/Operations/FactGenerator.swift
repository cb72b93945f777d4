/// Produces a deterministic stream of synthetic fact records shaped like a real knowledge base.
///
/// About 1,000 predicates with a Zipf-like skew (a few very common), about 200,000 entities (some
/// with Unicode letters, digits or underscores), arity 2 for ~85% of facts and 1, 3, 4 or 5 for the
/// rest, and ~3% of facts with a `role:value` argument, a `Q(298, K)` quantity, a list or a quoted
/// string. Every statement is canonical: `Pred(a, b).`.
///
/// ```
/// seed ──▶ Xoshiro256 ──▶ next() ──▶ GeneratedRecord ──▶ encode(as:into:) ──▶ BufferedFileOutput
///                           │  ▲
///                           ▼  │ duplicates re-emit a statement from a small ring of recent facts
/// ```
///
/// The same seed and options always give the same records, byte for byte. Memory holds a small
/// ring of recent statements and an 8-byte hash of each distinct statement (about 20 MB for a
/// million), which counts the distinct statements: the facts a load of the output inserts. Past
/// `distinctCountLimit` of them the count stops and the hashes are let go, so that memory stays flat
/// whatever `--facts` asks (it grew 25 bytes a fact: 437 MB for 16 million).
public struct FactGenerator: Sendable {
    /// The output formats the generator writes.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// One JSON object a line: `statement`, `confidence`, `source`, `context`, `created_at`.
        case ndjson
        /// RFC 4180 with a header row `statement,confidence,source,context,created_at`.
        case csv
        /// One statement a line after a `#` comment line.
        case text
    }

    /// What to generate.
    public struct Options: Sendable, Hashable {
        /// Seed of the pseudo-random sequence; the same seed gives the same output.
        public var seed: UInt64
        /// Format the records are meant for; it decides which kinds of malformed records occur.
        public var format: Format
        /// Fraction of records, in `0...1`, that are malformed.
        public var invalidRate: Double
        /// Fraction of records, in `0...1`, that repeat a recent fact (capped at `1 - invalidRate`).
        public var duplicateRate: Double

        /// Creates options; rates outside `0...1` are clamped into it.
        public init(
            seed: UInt64 = 42, format: Format = .ndjson, invalidRate: Double = 0, duplicateRate: Double = 0.02
        ) {
            self.seed = seed
            self.format = format
            self.invalidRate = invalidRate.isNaN ? 0 : min(max(invalidRate, 0), 1)
            self.duplicateRate = duplicateRate.isNaN ? 0 : min(max(duplicateRate, 0), 1)
        }
    }

    /// How many recent statements duplicates are drawn from.
    static let recentCapacity = 1_024
    /// The most distinct statements counted (about 50 MB of hashes).
    var distinctCountLimit = 2_000_000
    /// The first `created_at`: 2025-01-01T00:00:00Z.
    static let startTime: Int64 = 1_735_689_600

    /// The options this generator was created with.
    public let options: Options
    /// Counts of the records produced so far by `next()`.
    public private(set) var summary = GenerationSummary()

    var random: Xoshiro256
    let vocabulary: GeneratorVocabulary
    private var recent: [String] = []
    private var recentNext = 0
    /// A hash of every statement produced, to count the distinct ones (8 bytes and some slack each).
    private var produced = Set<UInt64>()
    private var clock: Int64 = FactGenerator.startTime
    private let invalidKinds: [GeneratedRecord.InvalidKind]

    /// Creates a generator; the first call builds the shared vocabulary (a fraction of a second).
    public init(options: Options = Options()) {
        self.options = options
        random = Xoshiro256(seed: options.seed)
        vocabulary = GeneratorVocabulary.shared
        invalidKinds = GeneratedRecord.InvalidKind.applicable(to: options.format)
        recent.reserveCapacity(Self.recentCapacity)
    }

    /// Creates a generator with `seed` and the other options at their defaults.
    public init(seed: UInt64) {
        self.init(options: Options(seed: seed))
    }

    /// Produces the next record and counts it in `summary`.
    public mutating func next() -> GeneratedRecord {
        clock += Int64(random.next(below: 31))
        let draw = random.nextUnit()
        let kind: GeneratedRecord.Kind
        let statement: String
        if draw < options.invalidRate {
            let invalidKind = random.pick(invalidKinds)
            kind = .invalid(invalidKind)
            statement = makeInvalidStatement(invalidKind)
        } else if draw < options.invalidRate + options.duplicateRate, !recent.isEmpty {
            kind = .duplicate
            statement = recent[random.next(below: recent.count)]
        } else {
            kind = .fact
            statement = makeStatement()
            remember(statement)
        }
        var isNew = false
        if !summary.distinctCountStopped, produced.count >= distinctCountLimit {
            summary.distinctCountStopped = true
            produced = []
        }
        if kind == .fact || kind == .duplicate, !summary.distinctCountStopped {
            isNew = statement.utf8.withContiguousStorageIfAvailable {
                produced.insert(StatementFilter.hash(UnsafeRawBufferPointer($0))).inserted
            } ?? produced.insert(UInt64(truncatingIfNeeded: statement.hashValue)).inserted
        }
        summary.count(kind, isNewStatement: isNew)
        var record = GeneratedRecord(
            kind: kind,
            statement: statement,
            confidenceHundredths: kind == .invalid(.confidenceOutOfRange) ? makeBadConfidence() : makeConfidence(),
            source: "generator",
            contextSource: random.chance(0.8) ? "synthetic" : random.pick(GeneratorWords.contextSources),
            tags: makeTags(),
            createdAt: clock
        )
        record.isNewStatement = isNew
        return record
    }

    private mutating func remember(_ statement: String) {
        if recent.count < Self.recentCapacity {
            recent.append(statement)
        } else {
            recent[recentNext] = statement
            recentNext = (recentNext + 1) % Self.recentCapacity
        }
    }

    /// 35% certain facts (1.00), the rest spread over 0.50 to 0.99.
    private mutating func makeConfidence() -> Int {
        random.chance(0.35) ? 100 : random.next(in: 50...99)
    }

    /// Above one (1.01 to 3.00) or below zero (-1.00 to -0.01).
    private mutating func makeBadConfidence() -> Int {
        random.chance(0.7) ? random.next(in: 101...300) : -random.next(in: 1...100)
    }

    /// None, one or two different tags.
    private mutating func makeTags() -> [String] {
        switch random.next(below: 10) {
        case 0..<2: return []
        case 2..<8: return [random.pick(GeneratorWords.tags)]
        default:
            let first = random.next(below: GeneratorWords.tags.count)
            let second = (first + random.next(in: 1...GeneratorWords.tags.count - 1)) % GeneratorWords.tags.count
            return [GeneratorWords.tags[first], GeneratorWords.tags[second]]
        }
    }
}
