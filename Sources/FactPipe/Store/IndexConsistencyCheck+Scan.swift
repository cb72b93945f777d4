import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One table's rows against each of its indexes (see `IndexConsistencyCheck`).
///
/// An index is read whole, in its order; its entries are dealt by rowid into partitions of 4,096
/// rowids, so that matching them against the rows, read in rowid order a partition at a time, stays
/// within a few hundred KiB of memory instead of jumping around all of it. When the partitions
/// outgrow `windowBytes`, the highest are dropped and the index is read again for their rowids.
struct TableScan {
    private let connection: SQLiteConnection
    private let layout: TableLayout
    private let windowBytes: Int
    private let table: String

    init(_ connection: SQLiteConnection, _ layout: TableLayout, windowBytes: Int) {
        self.connection = connection
        self.layout = layout
        self.windowBytes = windowBytes
        table = IndexConsistencyCheck.quoted(layout.table)
    }

    /// Reads the table and every index, adding what does not match to `findings`.
    /// - Throws: `StoreError` when a query fails (a damaged page among them).
    func run(_ findings: inout Findings) throws(StoreError) {
        let last = IndexConsistencyCheck.quoted(layout.lastColumn)
        guard !layout.indexes.isEmpty else {
            // Every record must still decode to its last column, as integrity_check reads it.
            let rows = try connection.prepare("SELECT typeof(\(last)) FROM \(table) NOT INDEXED")
            while try rows.step() {}
            return
        }
        // Apart: SQLite reads the ends of the table for a lone min() or max(), and scans for both at once.
        let bounds = try connection.prepare(
            "SELECT (SELECT min(rowid) FROM \(table)), (SELECT max(rowid) FROM \(table))")
        _ = try bounds.step()
        let range: ClosedRange<Int64>? = bounds.isNull(0) ? nil : bounds.int64(0)...bounds.int64(1)
        if try sumsAgree(rowRange: range) { return }
        // Something differs: the matching below names each row and entry that does.
        for (position, index) in layout.indexes.enumerated() where !findings.isFull {
            try IndexMatch(
                connection, layout, index, rowRange: range, decodingRows: position == 0, windowBytes: windowBytes
            ).run(&findings)
        }
    }
}

extension TableScan {
    /// Reads the table once and each index once, and sums a keyed hash of every index entry (its key
    /// and rowid) and of every entry each row should have: when the sums and counts agree, every index
    /// holds exactly its rows' entries, and the matching by partitions (a read of the table per index,
    /// and the entries held in memory) is not needed. A difference, or a finding while reading an index,
    /// returns false: the sums say that something differs, not what. The hash key is drawn for each
    /// check, so no file can be made to agree by design; by accident, with a chance of 2^-64 an index.
    /// Order, uniqueness and entries outside the table's rowids are checked on the way: any finding
    /// there returns false too, and the matching names it.
    func sumsAgree(rowRange: ClosedRange<Int64>?) throws(StoreError) -> Bool {
        let seed = UInt64.random(in: .min ... .max)
        var findings = Findings(limit: 1)
        var names: [String] = []
        let positions = layout.indexes.map { index in
            index.columns.map { column in
                if let at = names.firstIndex(of: column) { return Int32(at + 1) }
                names.append(column)
                return Int32(names.count)
            }
        }
        // typeof() of the last column decodes each record's header to its end, as integrity_check does.
        let rows = try connection.prepare(
            "SELECT rowid, \(names.map(IndexConsistencyCheck.quoted).joined(separator: ", ")), "
                + "typeof(\(IndexConsistencyCheck.quoted(layout.lastColumn))) FROM \(table) NOT INDEXED")
        var expected = [EntrySum](repeating: EntrySum(seed: seed), count: layout.indexes.count)
        var key = EncodedKey()
        while try rows.step() {
            let rowid = rows.int64(0)
            for position in positions.indices {
                key.removeAll()
                key.append(positions[position], from: rows.handle)
                expected[position].add(key, rowid: rowid)
            }
        }
        for (position, index) in layout.indexes.enumerated() {
            let found = try IndexMatch(
                connection, layout, index, rowRange: rowRange, decodingRows: false, windowBytes: windowBytes
            ).sum(seed: seed, &findings)
            guard found == expected[position], findings.lines.isEmpty else { return false }
        }
        return true
    }
}

/// A multiset of index entries as a count and a sum of their keyed hashes: two multisets with the same
/// entries have the same sum whatever their order, and a missing, extra or changed entry changes it.
/// Each entry is hashed by `StatementFilter.hash`, keyed with a hash of its rowid under the check's seed:
/// mixed, not XORed in, so that no change of rowid can be made up for by a change of the key's first
/// word without knowing the seed.
struct EntrySum: Equatable {
    let seed: UInt64
    private(set) var count = 0
    private(set) var sum: UInt64 = 0

    init(seed: UInt64) { self.seed = seed }

    mutating func add(_ key: EncodedKey, rowid: Int64) {
        sum &+= key.bytes.withUnsafeBytes { Self.hash($0, rowid: rowid, seed: seed) }
        count += 1
    }

    static func hash(_ bytes: UnsafeRawBufferPointer, rowid: Int64, seed: UInt64) -> UInt64 {
        let keyed = withUnsafeBytes(of: rowid.littleEndian) { StatementFilter.hash($0, seed: seed) }
        return StatementFilter.hash(bytes, seed: keyed)
    }
}

/// One index against its table, in as many passes as its partitions need.
private struct IndexMatch {
    let layout: TableLayout
    let index: TableLayout.Index
    let rowRange: ClosedRange<Int64>?
    let windowBytes: Int
    let entries: SQLiteStatement
    let rows: SQLiteStatement
    let keyColumns: [Int32]

    /// Rowids a partition answers for.
    static let partitionRowids: UInt64 = 4096

    init(
        _ connection: SQLiteConnection, _ layout: TableLayout, _ index: TableLayout.Index,
        rowRange: ClosedRange<Int64>?, decodingRows: Bool, windowBytes: Int
    ) throws(StoreError) {
        self.layout = layout
        self.index = index
        self.rowRange = rowRange
        self.windowBytes = windowBytes
        let table = IndexConsistencyCheck.quoted(layout.table)
        let columns = index.columns.map(IndexConsistencyCheck.quoted)
        let order = zip(columns, index.descending).map { $0 + ($1 ? " DESC" : "") }
        entries = try connection.prepare(
            "SELECT \(columns.joined(separator: ", ")), rowid FROM \(table) INDEXED BY "
                + "\(IndexConsistencyCheck.quoted(index.name)) ORDER BY \(order.joined(separator: ", "))")
        // typeof() of the last column makes SQLite decode each record's header to its end without
        // loading the value, as integrity_check does (once per row: with the first index).
        let decode = decodingRows ? ", typeof(\(IndexConsistencyCheck.quoted(layout.lastColumn)))" : ""
        rows = try connection.prepare(
            "SELECT rowid, \(columns.joined(separator: ", "))\(decode) FROM \(table) NOT INDEXED "
                + "WHERE rowid >= ?1 AND rowid <= ?2 ORDER BY rowid")
        keyColumns = Array(1...Int32(columns.count))
    }

    func run(_ findings: inout Findings) throws(StoreError) {
        guard let rowRange else {
            // No rows: every entry is one too many.
            var none: Partitions?
            try scan(from: 0, upTo: -1, partitions: &none, checkingOrder: true, &findings)
            return
        }
        var start = rowRange.lowerBound
        var isFirstPass = true
        while !findings.isFull {
            let span = UInt64(bitPattern: rowRange.upperBound &- start)
            let width = max(Self.partitionRowids, span / 65_536 + 1)
            var dealt: Partitions? = Partitions(
                count: Int(span / width) + 1, width: width, start: start, budget: windowBytes)
            try scan(from: start, upTo: rowRange.upperBound, partitions: &dealt, checkingOrder: isFirstPass, &findings)
            guard var partitions = dealt else { return }
            for slot in 0..<partitions.count where !findings.isFull {
                let bounds = partitions.rowids(of: slot)
                if bounds.lowerBound > partitions.last { break }
                try match(
                    partitions.take(slot), bounds.lowerBound...min(bounds.upperBound, partitions.last),
                    width: partitions.width, &findings)
            }
            guard partitions.last < rowRange.upperBound else { return }
            start = partitions.last + 1
            isFirstPass = false
        }
    }

    /// Reads the index whole, checking it as `scan` does on a first pass; returns the sum of its entries.
    func sum(seed: UInt64, _ findings: inout Findings) throws(StoreError) -> EntrySum {
        var none: Partitions?
        return try scan(
            from: rowRange?.lowerBound ?? 0, upTo: rowRange?.upperBound ?? -1, partitions: &none,
            checkingOrder: true, &findings, seed: seed)
    }

    /// Reads the index whole: checks the order (and uniqueness) of every entry when asked, reports
    /// entries outside the table's rowids, and deals those between `start` and `upTo` into `partitions`.
    /// With a `seed`, returns the sum of every entry it checked.
    @discardableResult
    private func scan(
        from start: Int64, upTo last: Int64, partitions: inout Partitions?, checkingOrder: Bool,
        _ findings: inout Findings, seed: UInt64? = nil
    ) throws(StoreError) -> EntrySum {
        var sum = seed.map(EntrySum.init(seed:))
        entries.reset()
        defer { entries.reset() }
        let keyCount = Int32(index.columns.count)
        let columns = Array(0..<keyCount)
        var key = EncodedKey()
        var previous = EncodedKey()
        var previousRowid: Int64 = 0
        var count = 0
        while !findings.isFull, try entries.step() {
            count += 1
            let rowid = entries.int64(keyCount)
            let isInPass = rowid >= start && rowid <= last && rowid <= (partitions?.last ?? last)
            guard checkingOrder || isInPass else { continue }
            key.removeAll()
            key.append(columns, from: entries.handle)
            if checkingOrder {
                if count > 1 {
                    let order = EncodedKey.compare(previous, key, descending: index.descending)
                    if order > 0 || (order == 0 && previousRowid >= rowid) {
                        findings.add("index \(index.name) is out of order at the entry of row \(rowid)")
                    } else if order == 0, index.isUnique, !key.hasNull {
                        findings.add("non-unique entry in index \(index.name) (rows \(previousRowid) and \(rowid))")
                    }
                }
                if !(rowRange?.contains(rowid) ?? false) {
                    findings.add("index \(index.name) has an entry for row \(rowid), which \(layout.table) lacks")
                }
                previousRowid = rowid
            }
            if isInPass { partitions?.append(rowid, key) }
            sum?.add(key, rowid: rowid)
            if checkingOrder { swap(&previous, &key) }
        }
        return sum ?? EntrySum(seed: 0)
    }

    /// Matches the entries of one partition (of `width` rowids) with the table's rows `rowids`, both in
    /// rowid order.
    private func match(
        _ partition: [UInt8], _ rowids: ClosedRange<Int64>, width: UInt64, _ findings: inout Findings
    ) throws(StoreError) {
        let dealt = RowidOrder.sorted(Partitions.entries(of: partition), from: rowids.lowerBound, width: width)
        rows.reset()
        defer { rows.reset() }
        try rows.bind(1, rowids.lowerBound)
        try rows.bind(2, rowids.upperBound)
        var key = EncodedKey()
        var next = 0
        let lacks = "which \(layout.table) lacks"
        while !findings.isFull, try rows.step() {
            let rowid = rows.int64(0)
            while next < dealt.count, dealt[next].rowid < rowid {
                findings.add("index \(index.name) has an entry for row \(dealt[next].rowid), \(lacks)")
                next += 1
            }
            guard next < dealt.count, dealt[next].rowid == rowid else {
                findings.add("row \(rowid) missing from index \(index.name)")
                continue
            }
            key.removeAll()
            key.append(keyColumns, from: rows.handle)
            if !key.equals(partition, dealt[next].key) {
                findings.add("row \(rowid) missing from index \(index.name) (its entry holds other values)")
            }
            next += 1
            while next < dealt.count, dealt[next].rowid == rowid {
                findings.add("index \(index.name) has more than one entry for row \(rowid)")
                next += 1
            }
        }
        for entry in dealt[next...] where !findings.isFull {
            findings.add("index \(index.name) has an entry for row \(entry.rowid), \(lacks)")
        }
    }
}

/// Index entries dealt by rowid: partition i holds the entries of rowids `start + i * width` up to
/// the next partition's, each as its rowid (8 bytes), the length of its key (4) and the key.
private struct Partitions {
    let count: Int
    let width: UInt64
    let start: Int64
    let budget: Int
    /// The last rowid the partitions take; lowered when partitions are dropped to stay in the budget.
    private(set) var last = Int64.max
    private var buffers: [[UInt8]]
    private var bytes = 0
    private var highest = -1
    private var lowest = Int.max

    init(count: Int, width: UInt64, start: Int64, budget: Int) {
        self.count = count
        self.width = width
        self.start = start
        self.budget = budget
        buffers = Array(repeating: [], count: count)
    }

    func partition(of rowid: Int64) -> Int {
        Int(UInt64(bitPattern: rowid &- start) / width)
    }

    /// The rowids partition `slot` answers for.
    func rowids(of slot: Int) -> ClosedRange<Int64> {
        let first = start &+ Int64(bitPattern: UInt64(slot) &* width)
        let end = UInt64(bitPattern: Int64.max &- first) < width - 1 ? Int64.max : first &+ Int64(width - 1)
        return first...end
    }

    mutating func append(_ rowid: Int64, _ key: EncodedKey) {
        let slot = partition(of: rowid)
        let needed = 12 + key.bytes.count
        let capacity = buffers[slot].capacity
        if buffers[slot].count + needed > capacity {
            // Grow by a quarter, not double, so that the memory held stays near the memory used.
            let grown = max(buffers[slot].count + needed, capacity + capacity / 4, 4096)
            buffers[slot].reserveCapacity(grown)
            bytes += buffers[slot].capacity - capacity
        }
        withUnsafeBytes(of: rowid.littleEndian) { buffers[slot].append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(key.bytes.count).littleEndian) { buffers[slot].append(contentsOf: $0) }
        buffers[slot].append(contentsOf: key.bytes)
        highest = max(highest, slot)
        lowest = min(lowest, slot)
        // Over the budget: give back the highest partitions (never the lowest that holds entries, so
        // that every pass gets on), read again in a later pass.
        while bytes > budget, highest > lowest {
            bytes -= buffers[highest].capacity
            buffers[highest] = []
            last = rowids(of: highest).lowerBound - 1
            highest -= 1
        }
    }

    /// Hands over the entries of partition `slot` and forgets them.
    mutating func take(_ slot: Int) -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &buffers[slot])
        bytes -= taken.capacity
        return taken
    }

    /// The rowid of each entry in `partition`, with the range of its key's bytes.
    static func entries(of partition: [UInt8]) -> [(rowid: Int64, key: Range<Int>)] {
        var result: [(rowid: Int64, key: Range<Int>)] = []
        partition.withUnsafeBytes { buffer in
            var at = 0
            while at + 12 <= buffer.count {
                let rowid = Int64(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: Int64.self))
                let length = Int(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self)))
                result.append((rowid, (at + 12)..<(at + 12 + length)))
                at += 12 + length
            }
        }
        return result
    }
}

/// Index entries put in rowid order, entries of the same rowid kept in the order they came (the
/// index's): by counting when the rowids span a partition of at most `countingWidth` that they fill
/// densely enough, which is linear where a sort is not, and by a stable sort otherwise.
enum RowidOrder {
    /// The widest span of rowids sorted by counting (a table of this many counters).
    static let countingWidth: UInt64 = 1 << 16

    /// Whether `entries` entries over `width` rowids are counted: the table of `width` counters costs
    /// about as much as the entries themselves when there is one entry for each 8 rowids or more; over
    /// sparser rowids (ids a thousand apart) the sort of the few entries is cheaper.
    static func counts(entries: Int, width: UInt64) -> Bool {
        width <= countingWidth && UInt64(entries) * 8 >= width
    }

    /// `entries` in rowid order; counted when `counts(entries:width:)` and every rowid lies in
    /// `start ..< start + width`, sorted otherwise.
    static func sorted<Key>(
        _ entries: [(rowid: Int64, key: Key)], from start: Int64, width: UInt64
    ) -> [(rowid: Int64, key: Key)] {
        guard counts(entries: entries.count, width: width), let first = entries.first,
              entries.allSatisfy({ UInt64(bitPattern: $0.rowid &- start) < width }) else {
            return entries.sorted { $0.rowid < $1.rowid }
        }
        var starts = [Int32](repeating: 0, count: Int(width) + 1)
        for entry in entries { starts[Int(UInt64(bitPattern: entry.rowid &- start)) + 1] += 1 }
        for slot in 1..<starts.count { starts[slot] += starts[slot - 1] }
        var result = [(rowid: Int64, key: Key)](repeating: first, count: entries.count)
        for entry in entries {
            let slot = Int(UInt64(bitPattern: entry.rowid &- start))
            result[Int(starts[slot])] = entry
            starts[slot] += 1
        }
        return result
    }
}

/// Column values in a byte form that is equal exactly when SQLite (BINARY collation) finds them
/// equal: a tag, then an integer or a real (an integral real becomes the integer, as SQLite
/// compares them), or a length and the bytes of a text or blob.
struct EncodedKey {
    private(set) var bytes: [UInt8] = []
    private(set) var hasNull = false

    private enum Tag: UInt8 {
        case null = 0, integer = 1, real = 2, text = 3, blob = 4
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        hasNull = false
    }

    /// True when this key's bytes are those of `range` in `buffer`.
    func equals(_ buffer: [UInt8], _ range: Range<Int>) -> Bool {
        guard range.count == bytes.count else { return false }
        return buffer.withUnsafeBytes { stored in
            bytes.withUnsafeBytes { own in
                guard let storedBase = stored.baseAddress, let ownBase = own.baseAddress else { return true }
                return memcmp(storedBase + range.lowerBound, ownBase, range.count) == 0
            }
        }
    }

    /// Appends the values of `columns` of the current row of `statement`.
    mutating func append(_ columns: [Int32], from statement: OpaquePointer) {
        for column in columns {
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER:
                appendInteger(sqlite3_column_int64(statement, column))
            case SQLITE_FLOAT:
                let value = sqlite3_column_double(statement, column)
                if let integer = Int64(exactly: value) {
                    appendInteger(integer)
                } else {
                    bytes.append(Tag.real.rawValue)
                    appendWord(value.bitPattern)
                }
            case SQLITE_TEXT:
                let pointer = UnsafeRawPointer(sqlite3_column_text(statement, column))
                appendBytes(.text, pointer, Int(sqlite3_column_bytes(statement, column)))
            case SQLITE_BLOB:
                let pointer = sqlite3_column_blob(statement, column)
                appendBytes(.blob, pointer, Int(sqlite3_column_bytes(statement, column)))
            default:
                bytes.append(Tag.null.rawValue)
                hasNull = true
            }
        }
    }

    private mutating func appendInteger(_ value: Int64) {
        bytes.append(Tag.integer.rawValue)
        appendWord(UInt64(bitPattern: value))
    }

    private mutating func appendWord(_ word: UInt64) {
        withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func appendBytes(_ tag: Tag, _ pointer: UnsafeRawPointer?, _ count: Int) {
        bytes.append(tag.rawValue)
        var length = UInt64(count)
        while length >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        bytes.append(UInt8(length))
        if let pointer, count > 0 { bytes.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: count)) }
    }

    /// Compares two keys of the same columns as SQLite orders them (BINARY collation; a column
    /// flagged in `descending` in reverse): negative, zero or positive.
    static func compare(_ left: EncodedKey, _ right: EncodedKey, descending: [Bool]) -> Int {
        left.bytes.withUnsafeBytes { a in
            right.bytes.withUnsafeBytes { b in
                var i = 0
                var j = 0
                for isDescending in descending {
                    guard i < a.count, j < b.count else { return 0 }
                    let order = compareValue(a, &i, b, &j)
                    if order != 0 { return isDescending ? -order : order }
                }
                return 0
            }
        }
    }

    private static func word(_ buffer: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
        UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }

    /// Compares the values at `i` and `j` and moves both past them.
    private static func compareValue(
        _ a: UnsafeRawBufferPointer, _ i: inout Int, _ b: UnsafeRawBufferPointer, _ j: inout Int
    ) -> Int {
        let tagA = Tag(rawValue: a[i]) ?? .null
        let tagB = Tag(rawValue: b[j]) ?? .null
        i += 1
        j += 1
        let (skipA, countA) = size(tagA, a, i)
        let (skipB, countB) = size(tagB, b, j)
        defer {
            i += skipA + countA
            j += skipB + countB
        }
        let classA = typeClass(tagA)
        let classB = typeClass(tagB)
        if classA != classB { return classA < classB ? -1 : 1 }
        switch tagA {
        case .null: return 0
        case .integer, .real:
            return compareNumbers(tagA, word(a, i), tagB, word(b, j))
        case .text, .blob:
            let common = min(countA, countB)
            if common > 0, let baseA = a.baseAddress, let baseB = b.baseAddress {
                let order = memcmp(baseA + i + skipA, baseB + j + skipB, common)
                if order != 0 { return order < 0 ? -1 : 1 }
            }
            return countA == countB ? 0 : (countA < countB ? -1 : 1)
        }
    }

    /// The bytes of a value's length and of its content, from just after its tag at `at`.
    private static func size(_ tag: Tag, _ buffer: UnsafeRawBufferPointer, _ at: Int) -> (Int, Int) {
        switch tag {
        case .null: return (0, 0)
        case .integer, .real: return (0, 8)
        case .text, .blob:
            var length = 0
            var shift = 0
            var position = at
            while position < buffer.count {
                let byte = buffer[position]
                position += 1
                length |= Int(byte & 0x7F) << shift
                shift += 7
                if byte < 0x80 { break }
            }
            return (position - at, length)
        }
    }

    private static func typeClass(_ tag: Tag) -> Int {
        switch tag {
        case .null: 0
        case .integer, .real: 1
        case .text: 2
        case .blob: 3
        }
    }

    private static func compareNumbers(_ tagA: Tag, _ a: UInt64, _ tagB: Tag, _ b: UInt64) -> Int {
        switch (tagA, tagB) {
        case (.integer, .integer):
            let x = Int64(bitPattern: a)
            let y = Int64(bitPattern: b)
            return x == y ? 0 : (x < y ? -1 : 1)
        case (.real, .real):
            let x = Double(bitPattern: a)
            let y = Double(bitPattern: b)
            return x == y ? 0 : (x < y ? -1 : 1)
        case (.integer, _):
            return integerVersusReal(Int64(bitPattern: a), Double(bitPattern: b))
        default:
            return -integerVersusReal(Int64(bitPattern: b), Double(bitPattern: a))
        }
    }

    /// SQLite's comparison of an integer with a real.
    private static func integerVersusReal(_ integer: Int64, _ real: Double) -> Int {
        if real < -9_223_372_036_854_775_808.0 { return 1 }
        if real >= 9_223_372_036_854_775_808.0 { return -1 }
        let truncated = Int64(real)
        if integer != truncated { return integer < truncated ? -1 : 1 }
        let converted = Double(integer)
        return converted == real ? 0 : (converted < real ? -1 : 1)
    }
}
