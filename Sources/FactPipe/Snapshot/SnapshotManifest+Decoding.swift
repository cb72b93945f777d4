extension SnapshotManifest {
    /// Reads a manifest from its JSON text, found in (or beside) the archive at `path`.
    /// - Throws: `SnapshotError` `.manifestDamaged` naming the first field that is missing or wrong,
    ///   or `.notAnArchive` when the object is not a factpipe manifest at all.
    public static func decode(_ text: String, path: String) throws(SnapshotError) -> SnapshotManifest {
        var utf8 = Array(text.utf8)
        let members: [(key: String, value: JSONValue)]
        var filterMembers: [(key: String, value: JSONValue)] = []
        var predicates: [String] = []
        do {
            (members, filterMembers, predicates) = try utf8.withUnsafeMutableBufferPointer {
                buffer throws(JSONSyntaxError) in
                let bytes = UnsafeBufferPointer(buffer)
                var scanner = JSONScanner(bytes)
                let members = try scanner.scanMembers()
                var filters: [(key: String, value: JSONValue)] = []
                var predicates: [String] = []
                if case .object(let range)? = members.first(where: { $0.key == "filters" })?.value {
                    var inner = JSONScanner(bytes, range: range)
                    filters = try inner.scanMembers()
                    if case .array(let list)? = filters.first(where: { $0.key == "predicates" })?.value {
                        var items = JSONScanner(bytes, range: list)
                        predicates = try items.scanScalarArray()
                    }
                }
                return (members, filters, predicates)
            }
        } catch {
            throw SnapshotError(.manifestDamaged, path: path, "manifest is not valid JSON: \(error.message)")
        }
        // A key given twice was read as its first value here and as its last by other readers (`jq`): the
        // manifest said two things, and which one was checked depended on who read it.
        for (key, list) in [("", members), ("filters.", filterMembers)] {
            var seen = Set<String>()
            for member in list where !seen.insert(member.key).inserted {
                throw SnapshotError(.manifestDamaged, path: path, "manifest gives the field \(key)\(member.key) twice")
            }
        }
        let fields = Fields(members: members, path: path)
        guard case .string("factpipe")? = fields.value("tool") else {
            throw SnapshotError(
                .notAnArchive, path: path, "not a factpipe archive: its manifest names no factpipe tool")
        }
        let version = try fields.integer("archive_version")
        guard version == Int64(currentArchiveVersion) else {
            throw SnapshotError(
                .manifestDamaged, path: path,
                "archive version \(version) is not supported by this factpipe "
                    + "(it reads version \(currentArchiveVersion))")
        }
        let kindText = try fields.string("kind")
        guard let kind = Kind(rawValue: kindText) else { throw fields.wrong("kind", kindText) }
        let formatText = try fields.string("format")
        guard let format = Format(rawValue: formatText) else { throw fields.wrong("format", formatText) }
        // A backup is a SQLite database, a snapshot facts as text: a manifest that says otherwise verified,
        // checked as the one its format named, and its restore then failed as the other.
        guard (kind == .backup) == (format == .sqlite) else {
            throw SnapshotError(
                .manifestDamaged, path: path,
                "manifest says kind \(kind.rawValue) with format \(format.rawValue): a backup's format is sqlite, "
                    + "a snapshot's ndjson, csv or text")
        }
        let since = filterMembers.first { $0.key == "since" }.flatMap { member -> String? in
            if case .string(let text) = member.value { return text }
            return nil
        }
        guard let filter = FactFilter(predicates: predicates, since: since) else {
            throw fields.wrong("filters.since", since ?? "")
        }
        let sha256 = try fields.string("content_sha256")
        guard isHash(sha256) else { throw fields.wrong("content_sha256", sha256) }
        var compressedSHA256: String?
        if fields.value("compressed_sha256") != nil {
            let hash = try fields.string("compressed_sha256")
            guard isHash(hash) else { throw fields.wrong("compressed_sha256", hash) }
            compressedSHA256 = hash
        }
        var databaseID: String?
        if fields.value("database_id") != nil { databaseID = try fields.string("database_id") }
        var integrity: String?
        if case .string(let text)? = fields.value("integrity_check") { integrity = text }
        return SnapshotManifest(
            kind: kind, format: format, compression: try fields.string("compression"),
            schemaVersion: try fields.integer("schema_version"), factCount: try fields.integer("fact_count"),
            contentBytes: try fields.integer("content_bytes"), contentSHA256: sha256,
            createdAt: try fields.string("created_at"), sourceDatabase: try fields.string("source_database"),
            filter: filter, toolVersion: try fields.string("tool_version"), integrityCheck: integrity,
            compressedSHA256: compressedSHA256, databaseID: databaseID)
    }

    /// True for 64 lowercase hex digits.
    private static func isHash(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Looks up members by key and says which one is missing or of the wrong type.
    private struct Fields {
        var members: [(key: String, value: JSONValue)]
        var path: String

        func value(_ key: String) -> JSONValue? {
            members.first { $0.key == key }?.value
        }

        func string(_ key: String) throws(SnapshotError) -> String {
            guard case .string(let text)? = value(key) else { throw missing(key, "a string") }
            return text
        }

        func integer(_ key: String) throws(SnapshotError) -> Int64 {
            guard case .number(_, let raw)? = value(key), let number = Int64(raw), number >= 0 else {
                throw missing(key, "a whole number")
            }
            return number
        }

        func missing(_ key: String, _ type: String) -> SnapshotError {
            SnapshotError(.manifestDamaged, path: path, "manifest field \(key) is missing or not \(type)")
        }

        func wrong(_ key: String, _ value: String) -> SnapshotError {
            SnapshotError(
                .manifestDamaged, path: path, "manifest field \(key) has an unknown value \(value.prefix(80))")
        }
    }
}
