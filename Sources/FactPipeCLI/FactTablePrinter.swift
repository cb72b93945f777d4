import FactPipe

/// Prints facts as an aligned table as they arrive, in bounded memory.
///
/// The first `sampleSize` facts decide which columns there are (one no fact has is left out) and
/// how wide each is; later rows keep those widths, a longer cell pushing its own line wider.
final class FactTablePrinter {
    static let sampleSize = 1_000

    private typealias Column = (title: String, alignment: TextTable.Alignment, value: @Sendable (StoredFact) -> String?)
    private static let allColumns: [Column] = [
        ("id", .right, { $0.id.map { "\($0)" } }),
        ("statement", .left, { $0.statement }),
        ("confidence", .right, { $0.confidenceText ?? $0.confidence.map { String($0) } }),
        ("source", .left, { $0.source }),
        ("created_at", .left, { $0.createdAt }),
    ]

    private let emit: (String) -> Void
    private var sample: [StoredFact] = []
    private var layout: (columns: [Column], table: TextTable, widths: [Int])?

    init(emit: @escaping (String) -> Void) {
        self.emit = emit
    }

    func add(_ fact: StoredFact) {
        if let layout {
            emit(layout.table.line(layout.columns.map { $0.value(fact) ?? "" }, widths: layout.widths))
            return
        }
        sample.append(fact)
        if sample.count == Self.sampleSize { flushSample() }
    }

    /// Prints what is still held back.
    func finish() {
        if layout == nil, !sample.isEmpty { flushSample() }
    }

    private func flushSample() {
        let columns = Self.allColumns.filter { column in sample.contains { column.value($0) != nil } }
        var table = TextTable(columns.map(\.title), alignments: columns.map(\.alignment))
        for fact in sample { table.append(columns.map { $0.value(fact) ?? "" }) }
        let widths = table.columnWidths()
        emit(table.render())
        table.rows = []
        layout = (columns, table, widths)
        sample = []
    }
}
