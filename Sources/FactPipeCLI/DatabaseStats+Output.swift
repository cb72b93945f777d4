import FactPipe

extension DatabaseStats {
    /// The `--json` object (keys in docs/operations.md).
    var json: JSONDocument {
        [
            "database": .string(path),
            "store": .string(store.rawValue),
            "kind": .string(kind.rawValue),
            "schema_version": .int(Int(schemaVersion)),
            "journal_mode": .string(journalMode),
            "facts": .int(facts),
            "distinct_predicates": .int(distinctPredicates),
            "distinct_subjects": .int(distinctSubjects),
            "top_predicates": .array(topPredicates.map { ["predicate": .optional($0.name), "facts": .int($0.facts)] }),
            "arity": .array(arities.map { ["arity": .int($0.arity), "facts": .int($0.facts)] }),
            "unparsed_statements": .int(unparsedStatements),
            "sources": .array(sources.map { ["source": .optional($0.name), "facts": .int($0.facts)] }),
            "file_bytes": .int(Int(fileBytes)),
            "wal_bytes": .int(Int(walBytes)),
            "page_size": .int(pageSize),
            "page_count": .int(pageCount),
            "free_pages": .int(freePages),
            "free_bytes": .int(Int(freeBytes)),
            "columns": .array(columns.map { .string($0) }),
            "indexes": .array(
                indexes.map {
                    [
                        "name": .string($0.name), "columns": .array($0.columns.map { .string($0) }),
                        "unique": .bool($0.isUnique),
                    ]
                }),
            "recent_loads": .array(recentLoads.map(\.json)),
        ]
    }

    /// A report for people.
    var humanText: String {
        var lines: [String]
        switch store {
        case .sqlite:
            lines = [
                "database    \(TerminalText.escaped(path)) "
                    + "(\(kind == .factpipe ? "factpipe" : "not factpipe's, read-only"), "
                    + "user_version \(schemaVersion), journal \(journalMode))",
            ]
        case .postgresql:
            lines = [
                "database    \(TerminalText.escaped(path)) "
                    + "(factpipe on PostgreSQL, schema version \(schemaVersion))",
            ]
        }
        lines += [
            "facts       \(Format.count(facts))",
            "predicates  \(Format.count(distinctPredicates)) distinct",
            "subjects    \(Format.count(distinctSubjects)) distinct",
        ]
        switch store {
        case .sqlite:
            lines.append(
                "size        \(Format.bytes(fileBytes)) file, \(Format.bytes(walBytes)) WAL, "
                    + "\(Format.count(freePages)) free pages (\(Format.bytes(freeBytes))) "
                    + "of \(Format.count(pageCount)), "
                    + "page size \(Format.count(pageSize))")
        case .postgresql:
            lines.append("size        \(Format.bytes(fileBytes)) in factpipe's tables and their indexes")
        }
        if unparsedStatements > 0 {
            lines.append("unparsed    \(Format.count(unparsedStatements, "statement")) the grammar refuses (no arity)")
        }
        var predicates = TextTable(["predicate", "facts"], alignments: [.left, .right])
        predicates.indent = 2
        for tally in topPredicates { predicates.append([tally.name ?? "", Format.count(tally.facts)]) }
        lines += ["", "top predicates", predicates.render()]
        var arity = TextTable(["arity", "facts"], alignments: [.right, .right])
        arity.indent = 2
        for tally in arities { arity.append(["\(tally.arity)", Format.count(tally.facts)]) }
        lines += ["", "arity", arity.render()]
        if !sources.isEmpty {
            var table = TextTable(["source", "facts"], alignments: [.left, .right])
            table.indent = 2
            for tally in sources { table.append([tally.name ?? "(none)", Format.count(tally.facts)]) }
            lines += ["", "sources", table.render()]
        }
        var indexTable = TextTable(["index", "columns", "unique"])
        indexTable.indent = 2
        for index in indexes {
            indexTable.append([index.name, index.columns.joined(separator: ", "), index.isUnique ? "yes" : "no"])
        }
        lines += ["", "indexes on facts", indexTable.render()]
        if kind == .factpipe {
            var loadTable = TextTable(
                ["load", "status", "records", "inserted", "duplicates", "rejected", "finished", "source"],
                alignments: [.right, .left, .right, .right, .right, .right, .left, .left])
            loadTable.indent = 2
            for load in recentLoads {
                loadTable.append([
                    "\(load.id)", load.status, Format.count(load.records), Format.count(load.inserted),
                    Format.count(load.duplicates), Format.count(load.rejected), load.finishedAt ?? "-", load.source,
                ])
            }
            lines += ["", "recent loads", recentLoads.isEmpty ? "  none" : loadTable.render()]
        }
        return lines.joined(separator: "\n")
    }
}

extension DatabaseStats.Load {
    var json: JSONDocument {
        [
            "id": .int(Int(id)), "source": .string(source), "status": .string(status), "started_at": .string(startedAt),
            "finished_at": .optional(finishedAt), "records": .int(records), "inserted": .int(inserted),
            "updated": .int(updated), "duplicates": .int(duplicates), "rejected": .int(rejected),
            "warnings": .int(warnings),
        ]
    }
}
