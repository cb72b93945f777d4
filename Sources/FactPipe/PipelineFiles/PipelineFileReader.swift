/// Turns a parsed pipeline file into a `PipelineFile`, checking every key and value.
struct PipelineFileReader {
    let path: String
    let folder: String

    private static let known: [String: Set<String>] = [
        "": ["name", "database", "description"],
        "sources": ["paths", "format"],
        "load": ["on_conflict", "batch_size", "atomic", "strict_parts", "max_errors", "rejects", "into_existing",
                 "wait_seconds"],
        "limits": ["max_args", "max_arg_length", "max_predicate_length", "max_statement_bytes", "max_record_bytes"],
        "mapping": [],
        "after": ["optimize", "snapshot", "keep_snapshots"],
    ]

    /// The names `[mapping]` may map an input's field or column to (`arg3` … `arg64` besides).
    static let mappingTargetList = "statement, predicate, subject, object, arg3…arg64, args, confidence, source, "
        + "created_at, timestamp, context, fact_metadata, tags, certainty, type, content"
    static let mappingTargets: Set<String> = [
        "statement", "s", "fact", "predicate", "subject", "object", "args", "confidence", "source", "created_at",
        "timestamp", "context", "fact_metadata", "metadata", "tags", "certainty", "type", "content",
    ]

    /// True when `target` names one of factpipe's fields (`argN` by position included).
    static func isMappingTarget(_ target: String) -> Bool {
        mappingTargets.contains(target.lowercased()) || RecordFields.argumentPosition(target) != nil
    }

    /// The field a mapping target names, its aliases made one (`s`, `fact` → statement; `arg1` → subject).
    static func field(_ target: String) -> String {
        switch RecordFields.argumentPosition(target) ?? 0 {
        case 1: return "subject"
        case 2: return "object"
        default: break
        }
        switch target.lowercased() {
        case "s", "fact": return "statement"
        case "metadata": return "fact_metadata"
        case let other: return other
        }
    }

    mutating func read(_ document: TOMLDocument) throws(PipelineFileError) -> PipelineFile {
        var values: [String: (key: String, value: TOMLValue)] = [:]
        var mapping: [String: String] = [:]
        for table in document.tables {
            guard let keys = Self.known[table.name] else {
                throw PipelineFileError(path: path, line: table.line, key: "[\(table.name)]",
                                        message: "unknown table; known: " + Self.known.keys.filter { !$0.isEmpty }
                                            .sorted().map { "[\($0)]" }.joined(separator: ", "))
            }
            for (key, value) in table.entries {
                let qualified = table.name.isEmpty ? key : "\(table.name).\(key)"
                if table.name == "mapping" {
                    let target = try string(value, qualified)
                    // A misspelt target (`confidance`) put the value in fact_metadata under that name and
                    // left the field to its default, with no word; two names for one field lose one.
                    guard Self.isMappingTarget(target) else {
                        throw PipelineFileError(
                            path: path, line: value.line, key: qualified,
                            message: "\"\(target)\" is not a field of factpipe's; map to one of "
                                + Self.mappingTargetList)
                    }
                    if let other = mapping.first(where: { Self.field($0.value) == Self.field(target) }) {
                        throw PipelineFileError(
                            path: path, line: value.line, key: qualified,
                            message: "maps to \(target) as mapping.\(other.key) does (\(other.value)); a record "
                                + "holding both would lose one")
                    }
                    // CSV columns are matched whatever their case: two keys that differ only by it name one.
                    if let other = mapping.keys.first(where: { $0.lowercased() == key.lowercased() }) {
                        throw PipelineFileError(
                            path: path, line: value.line, key: qualified,
                            message: "differs from mapping.\(other) only by case, and CSV columns are matched "
                                + "whatever their case; keep one")
                    }
                    mapping[key] = target
                    continue
                }
                guard keys.contains(key) else {
                    throw PipelineFileError(path: path, line: value.line, key: qualified,
                                            message: "unknown key; known in this table: " + keys.sorted().joined(separator: ", "))
                }
                values[qualified] = (qualified, value)
            }
        }
        func required(_ key: String) throws(PipelineFileError) -> TOMLValue {
            guard let entry = values[key] else {
                throw PipelineFileError(path: path, key: key, message: "is required")
            }
            return entry.value
        }
        let name = try string(try required("name"), "name")
        // A PostgreSQL URL is an address, not a path relative to the file.
        let databaseValue = try required("database")
        let databaseText = try string(databaseValue, "database")
        // Before it is resolved against the file's folder, which hides what it is; and without repeating it.
        if DatabaseFile.looksLikePostgreSQL(databaseText) {
            throw PipelineFileError(path: path, line: databaseValue.line, key: "database",
                                    message: DatabaseFile.mistypedPostgreSQL)
        }
        // A URL's password may hold a `$`; a path may not hold a variable.
        if !PostgreSQLAddress.isPostgreSQL(databaseText) { _ = try pathValue(databaseValue, "database") }
        let database = PostgreSQLAddress.isPostgreSQL(databaseText) ? databaseText : resolve(databaseText)
        let patternsValue = try required("sources.paths")
        guard case .array(let items) = patternsValue.kind, !items.isEmpty else {
            throw PipelineFileError(path: path, line: patternsValue.line, key: "sources.paths",
                                    message: "must be a non-empty array of paths or globs")
        }
        var patterns: [String] = []
        var folderBytes: [Int] = []
        for item in items {
            let given = try pathValue(item, "sources.paths")
            let resolved = resolve(given)
            patterns.append(resolved)
            folderBytes.append(resolved.utf8.count - given.utf8.count)
        }

        var options = ImportOptions(inputs: [], databasePath: database)
        options.isFromPipelineFile = true
        // Both in lower case: a target is matched so when the file is read (`Confidence` was taken, then
        // matched no field of an NDJSON record, and its value went to metadata), and input names are matched
        // whatever their case, in NDJSON as in CSV (two keys that differ only by case were refused above).
        options.fieldMapping = Dictionary(uniqueKeysWithValues: mapping.map { ($0.key.lowercased(), $0.value.lowercased()) })
        if let value = values["sources.format"]?.value {
            options.format = try choice(value, "sources.format", InputFormat.self)
        }
        if let value = values["load.on_conflict"]?.value {
            options.conflictPolicy = try choice(value, "load.on_conflict", ConflictPolicy.self)
        }
        if let value = values["load.batch_size"]?.value { options.batchSize = try integer(value, "load.batch_size", min: 1) }
        if let value = values["load.atomic"]?.value { options.isAtomic = try bool(value, "load.atomic") }
        if let value = values["load.strict_parts"]?.value { options.strictParts = try bool(value, "load.strict_parts") }
        if let value = values["load.into_existing"]?.value { options.intoExisting = try bool(value, "load.into_existing") }
        if let value = values["load.max_errors"]?.value { options.maxErrors = try integer(value, "load.max_errors", min: 0) }
        if let value = values["load.wait_seconds"]?.value {
            options.lockTimeoutSeconds = Double(try integer(value, "load.wait_seconds", min: 0))
        }
        let limits: [(String, WritableKeyPath<FactLimits, Int>, Int)] = [
            ("limits.max_args", \.maxArgs, 1), ("limits.max_arg_length", \.maxArgLength, 1),
            ("limits.max_predicate_length", \.maxPredicateLength, 1),
            ("limits.max_statement_bytes", \.maxStatementBytes, 1), ("limits.max_record_bytes", \.maxRecordBytes, 64),
        ]
        for (key, keyPath, minimum) in limits {
            if let value = values[key]?.value { options.limits[keyPath: keyPath] = try integer(value, key, min: minimum) }
        }
        var file = PipelineFile(path: path, name: name, databasePath: database, sourcePatterns: patterns, options: options)
        file.sourceFolderBytes = folderBytes
        if let value = values["load.rejects"]?.value {
            file.rejectsTemplate = resolve(try pathValue(value, "load.rejects", expanding: ["{date}", "{source}"]))
        }
        if let value = values["after.optimize"]?.value { file.optimizesAfter = try bool(value, "after.optimize") }
        if let value = values["after.snapshot"]?.value {
            let template = try pathValue(value, "after.snapshot", expanding: ["{date}"])
            if let misnamed = SnapshotOptions.misnamedCompression(template) {
                throw PipelineFileError(
                    path: path, line: value.line, key: "after.snapshot",
                    message: "\(misnamed.problem): name it \(misnamed.betterName)")
            }
            file.snapshotTemplate = resolve(template)
        }
        if let value = values["after.keep_snapshots"]?.value {
            guard file.snapshotTemplate != nil else {
                throw PipelineFileError(path: path, line: value.line, key: "after.keep_snapshots",
                                        message: "needs after.snapshot")
            }
            file.keepSnapshots = try integer(value, "after.keep_snapshots", min: 1)
        }
        do {
            try options.validate()
        } catch {
            let key = error.option.pipelineKey
            throw PipelineFileError(path: path, line: key.flatMap { values[$0]?.value.line }, key: key,
                                    message: error.message)
        }
        return file
    }

    private func resolve(_ relative: String) -> String {
        relative.hasPrefix("/") || folder == "." ? relative : folder + "/" + relative
    }

    private func fail(_ value: TOMLValue, _ key: String, _ message: String) -> PipelineFileError {
        PipelineFileError(path: path, line: value.line, key: key, message: message)
    }

    /// A string naming a file or a pattern, refused when it holds a shell variable: factpipe expands none,
    /// so `"${INDIR}/*.ndjson"` was a folder that is not there (a quiet night) and `database = "${DB}"` made
    /// a database of that name.
    /// So is a placeholder the key does not expand (`expanding`): `{date}` in a source pattern matched no
    /// file, a quiet night every night, and in `database` named a database `kb-{date}.sqlite`.
    private func pathValue(
        _ value: TOMLValue, _ key: String, expanding: [String] = []
    ) throws(PipelineFileError) -> String {
        let text = try string(value, key)
        if let variable = Self.shellVariable(in: text) {
            throw fail(value, key, "\(variable) looks like a shell variable, and factpipe expands none: expand them "
                + "first, e.g. `factpipe run <(envsubst < pipeline.toml)`, with every variable set")
        }
        for placeholder in ["{date}", "{source}"] where !expanding.contains(placeholder) && text.contains(placeholder) {
            throw fail(value, key, "\(placeholder) is not expanded here, only in "
                + (placeholder == "{date}" ? "load.rejects and after.snapshot" : "load.rejects")
                + ": name the files, or a glob such as `incoming/*.ndjson`, which the ledger loads once each")
        }
        return text
    }

    /// The first `${…}` in `text`, or `$NAME` — an environment variable's usual name: capitals, digits and
    /// `_`, two or more — that starts the text or a path component (a folder named `$x` stays a folder).
    static func shellVariable(in text: String) -> String? {
        let characters = Array(text)
        func isNameCharacter(_ character: Character) -> Bool {
            character == "_" || character.isASCII && (character.isUppercase || character.isNumber)
        }
        for index in characters.indices where characters[index] == "$" {
            let next = index + 1
            guard next < characters.count else { continue }
            if characters[next] == "{" {
                let end = characters[next...].firstIndex(of: "}") ?? characters.count - 1
                return String(characters[index...end])
            }
            guard index == 0 || characters[index - 1] == "/", !characters[next].isNumber else { continue }
            var end = next
            while end < characters.count, isNameCharacter(characters[end]) { end += 1 }
            let endsName = end == characters.count || !(characters[end].isLetter || characters[end].isNumber)
            if end - next >= 2, endsName { return String(characters[index..<end]) }
        }
        return nil
    }

    private func string(_ value: TOMLValue, _ key: String) throws(PipelineFileError) -> String {
        guard case .string(let text) = value.kind else { throw fail(value, key, "must be a string, not \(value.typeName)") }
        guard !text.isEmpty else { throw fail(value, key, "must not be empty") }
        return text
    }

    private func bool(_ value: TOMLValue, _ key: String) throws(PipelineFileError) -> Bool {
        guard case .bool(let flag) = value.kind else { throw fail(value, key, "must be true or false, not \(value.typeName)") }
        return flag
    }

    private func integer(_ value: TOMLValue, _ key: String, min minimum: Int) throws(PipelineFileError) -> Int {
        guard case .integer(let number) = value.kind else { throw fail(value, key, "must be an integer, not \(value.typeName)") }
        guard number >= minimum else { throw fail(value, key, "must be at least \(minimum), not \(number)") }
        return number
    }

    private func choice<T: RawRepresentable & CaseIterable>(
        _ value: TOMLValue, _ key: String, _ type: T.Type
    ) throws(PipelineFileError) -> T where T.RawValue == String {
        let text = try string(value, key)
        guard let result = T(rawValue: text) else {
            throw fail(value, key, "\(text) is not one of " + T.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return result
    }
}
