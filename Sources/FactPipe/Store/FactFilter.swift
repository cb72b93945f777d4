/// Which facts an export reads: every fact, or those of some predicates, or those created at or after a time.
public struct FactFilter: Sendable, Hashable {
    /// Predicates to keep; empty keeps every predicate.
    public var predicates: [String]
    /// Keeps facts whose `created_at` is at or after this time (ISO 8601 UTC, as `Timestamp` writes it);
    /// nil keeps every fact.
    public private(set) var since: String?

    /// A filter that keeps every fact.
    public init() {
        predicates = []
        since = nil
    }

    /// A filter on `predicates` (empty: all), each in the form facts store it (as `query --predicate`
    /// takes it: ` HasPart ` is `HasPart`), and on `since`, any ISO 8601 time, normalized to UTC; nil when
    /// `since` is not an ISO 8601 time.
    public init?(predicates: [String], since: String?) {
        self.predicates = predicates.map { FactQuery(predicate: $0).canonicalized().predicate ?? $0 }
        if let since {
            guard let normalized = Timestamp.normalize(since) else { return nil }
            self.since = normalized
        } else {
            self.since = nil
        }
    }

    /// True when `createdAt` (UTF-8 bytes of a stored `created_at`) is at or after `since`.
    ///
    /// Canonical times compare by their `YYYY-MM-DDTHH:MM:SS` part, then by their fractions digit by
    /// digit (a missing digit is 0) — plain text order would put `…:00.5Z` before `…:00Z`.
    ///
    /// A time in another form import accepts (an offset, a space for the `T`: written by another program)
    /// is normalized first; it was compared as text, and such facts were left out of `--since` exports
    /// without a word. One that is no time at all is kept, for the export to refuse it by name; an empty one
    /// is none given (as import reads it), so never at or after a time (it was exported for any `--since`).
    func isAtOrAfterSince(_ createdAt: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let since else { return true }
        guard !createdAt.isEmpty else { return false }
        guard Self.isStoredForm(createdAt) else {
            guard let normalized = Timestamp.normalize(String(decoding: createdAt, as: UTF8.self)) else { return true }
            return Self.compare(normalized, since) >= 0
        }
        return since.utf8.withContiguousStorageIfAvailable { bound in
            Self.compareTimes(createdAt, bound) >= 0
        } ?? true
    }

    /// The shape of a time as factpipe stores it: `YYYY-MM-DDTHH:MM:SS`, then anything, then `Z`.
    static func isStoredForm(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        text.count > 19 && text[4] == UInt8(ascii: "-") && text[7] == UInt8(ascii: "-") && text[10] == UInt8(ascii: "T")
            && text[13] == UInt8(ascii: ":") && text[16] == UInt8(ascii: ":") && text[text.count - 1] == UInt8(ascii: "Z")
    }

    /// The shape `isStoredForm` accepts, as a GLOB pattern for SQL.
    static let storedFormPattern = "????-??-??T??:??:??*Z"

    private static func compare(_ a: String, _ b: String) -> Int {
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in compareTimes(x, y) } }
    }

    /// -1, 0 or 1 as `a` is earlier than, the same time as, or later than `b` (both canonical UTC times).
    static func compareTimes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let prefix = 19
        guard a.count > prefix, b.count > prefix else { return lexicographic(a, b) }
        for i in 0..<prefix where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        // Past the seconds: an optional `.digits`, then `Z`.
        func fractionDigit(_ text: UnsafeBufferPointer<UInt8>, _ position: Int) -> UInt8 {
            guard text[prefix] == UInt8(ascii: "."), prefix + 1 + position < text.count else { return 0x30 }
            let byte = text[prefix + 1 + position]
            return byte >= 0x30 && byte <= 0x39 ? byte : 0x30
        }
        for position in 0..<max(a.count, b.count) - prefix {
            let x = fractionDigit(a, position)
            let y = fractionDigit(b, position)
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    private static func lexicographic(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// The first 19 characters of `since` (`YYYY-MM-DDTHH:MM:SS`), which SQLite may compare as text.
    var sincePrefix: String? {
        since.map { String($0.prefix(19)) }
    }
}
