/// A validated fact, ready for the writer: canonical statement, its parts and its side fields.
///
/// The text fields live in one UTF-8 buffer so that a fact costs one allocation and the writer can
/// bind every column straight from that buffer (`SQLITE_STATIC`) without copying.
public struct Fact: Sendable {
    /// The text columns of a fact, in the order they are stored in the buffer.
    public enum Field: Int, CaseIterable, Sendable {
        case statement, predicate, subject, object, args, source, context, metadata, createdAt
    }

    /// Concatenated UTF-8 of every present field.
    @usableFromInline var bytes: [UInt8]
    /// End offset in `bytes` of each field; a field starts where the previous one ends.
    @usableFromInline var ends: InlineArray<9, Int32>
    /// Bit `f.rawValue` is set when field `f` is NULL (only object, source and createdAt can be).
    @usableFromInline var nullFields: UInt16
    /// Confidence in [0, 1].
    public var confidence: Double
    /// False when the record gave no confidence and `confidence` is the default: `--on-conflict update`
    /// then keeps the stored one.
    public var isConfidenceGiven = true
    /// Number of top-level arguments.
    public var arity: Int
    /// A 64-bit hash of the statement, computed where the fact is built (a parser thread), for the
    /// writer's `StatementFilter`.
    public private(set) var statementHash: UInt64
    /// Where the record that gave this fact starts in its input.
    public var line: Int = 0
    public var offset: Int64 = 0

    /// Builds a fact from its fields; `args` is the JSON array text of the canonical arguments.
    public init(
        statement: String, predicate: String, subject: String, object: String?, argsJSON: String,
        arity: Int, confidence: Double, source: String?, context: String, metadata: String, createdAt: String?
    ) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(
            statement.utf8.count + predicate.utf8.count + subject.utf8.count + (object?.utf8.count ?? 0)
                + argsJSON.utf8.count + (source?.utf8.count ?? 0) + context.utf8.count + metadata.utf8.count
                + (createdAt?.utf8.count ?? 0))
        var ends = InlineArray<9, Int32>(repeating: 0)
        var nulls: UInt16 = 0
        func append(_ value: String?, _ field: Field) {
            if let value {
                bytes.append(contentsOf: value.utf8)
            } else {
                nulls |= 1 << UInt16(field.rawValue)
            }
            ends[field.rawValue] = Int32(bytes.count)
        }
        append(statement, .statement)
        append(predicate, .predicate)
        append(subject, .subject)
        append(object, .object)
        append(argsJSON, .args)
        append(source, .source)
        append(context, .context)
        append(metadata, .metadata)
        append(createdAt, .createdAt)
        statementHash = bytes.withUnsafeBufferPointer { buffer in
            StatementFilter.hash(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[0..<Int(ends[Field.statement.rawValue])])))
        }
        self.bytes = bytes
        self.ends = ends
        self.nullFields = nulls
        self.confidence = confidence
        self.arity = arity
    }

    /// The byte range of `field` in the buffer, or nil when the field is NULL.
    @inlinable
    func range(of field: Field) -> Range<Int>? {
        if nullFields & (1 << UInt16(field.rawValue)) != 0 { return nil }
        let start = field.rawValue == 0 ? 0 : Int(ends[field.rawValue - 1])
        return start..<Int(ends[field.rawValue])
    }

    /// The text of `field`, or nil when it is NULL.
    public subscript(field: Field) -> String? {
        guard let range = range(of: field) else { return nil }
        return String(decoding: bytes[range], as: UTF8.self)
    }

    public var statement: String { self[.statement] ?? "" }
    public var predicate: String { self[.predicate] ?? "" }
    public var subject: String { self[.subject] ?? "" }
    public var object: String? { self[.object] }
    public var source: String? { self[.source] }
    public var context: String { self[.context] ?? "{}" }
    public var metadata: String { self[.metadata] ?? "{}" }
    public var createdAt: String? { self[.createdAt] }
}
