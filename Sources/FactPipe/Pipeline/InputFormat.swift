/// The record formats factpipe reads (DESIGN 2).
public enum InputFormat: String, Sendable, CaseIterable {
    case auto, ndjson, csv, tsv, text
    /// The `facts` table of a SQLite database (a knowledge base's own file), read-only.
    case sqlite

    /// The first bytes of every SQLite database file.
    static let sqliteMagic: [UInt8] = Array("SQLite format 3\0".utf8)

    /// The format of a stream, judged from its first decoded bytes (BOM already removed).
    ///
    /// A first non-blank character `{` means NDJSON; a first line that holds a statement or predicate
    /// column name (`CSVHeader.factColumnNames`) separated by tabs or commas means TSV or CSV, unless the
    /// line is a whole statement (`Abbrev(second, s, time).` names a column `s`: read as a header, its fact
    /// was lost and every later one split at its commas, exit 0). Anything
    /// else is text, unless most of the lines in `prefix` that are neither blank nor `#` comments begin
    /// with `{`: no statement can, so that is NDJSON whose first line is damaged or foreign (a log line, a
    /// half-written record), and reading it as text would reject every record for a reason not its own.
    /// A line ends at an LF or a CR.
    static func detect(from prefix: [UInt8], mapping: [String: String] = [:]) -> InputFormat {
        // A header the mapping renames (`fact_text = "statement"`) is read as it will be read.
        let renamed = Dictionary(mapping.map { ($0.key.lowercased(), $0.value.lowercased()) }) { first, _ in first }
        var start = 0
        while start < prefix.count, [0x20, 0x09, 0x0A, 0x0D].contains(prefix[start]) { start += 1 }
        guard start < prefix.count else { return .text }
        if prefix[start] == UInt8(ascii: "{") { return .ndjson }
        if prefix[start] != UInt8(ascii: "#") {
            var end = start
            while end < prefix.count, prefix[end] != 0x0A, prefix[end] != 0x0D { end += 1 }
            let line = String(decoding: prefix[start..<end], as: UTF8.self)
            let firstLine = line.lowercased()
            for (separator, format) in [("\t", InputFormat.tsv), (",", InputFormat.csv)] {
                let names = firstLine.split(separator: Character(separator), omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: [" ", "\"", "\r"]) }
                let named = names.filter { CSVHeader.factColumnNames.contains(renamed[$0] ?? $0) }
                guard !named.isEmpty, names.count > 1 || format == .csv else { continue }
                // A column the mapping names is the user's word (`Claim(s)` renamed to statement).
                if named.contains(where: { renamed[$0] != nil }) { return format }
                return (try? StatementParser.parse(line, limits: ForeignFactRow.lenientLimits)) != nil ? .text : format
            }
        }
        return mostLinesAreObjects(prefix[start...]) ? .ndjson : .text
    }

    /// Whether more of the lines in `bytes` that are neither blank nor `#` comments begin (after spaces
    /// and tabs) with `{` than with anything else.
    private static func mostLinesAreObjects(_ bytes: ArraySlice<UInt8>) -> Bool {
        var objects = 0
        var others = 0
        var atLineStart = true
        for byte in bytes {
            if byte == 0x0A || byte == 0x0D {
                atLineStart = true
            } else if atLineStart, byte != 0x20, byte != 0x09 {
                atLineStart = false
                if byte == UInt8(ascii: "{") {
                    objects += 1
                } else if byte != UInt8(ascii: "#") {
                    others += 1
                }
            }
        }
        return objects > others
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
