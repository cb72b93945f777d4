#if canImport(Glibc)
    import Glibc
#endif

/// Columns aligned for people: a header row and data rows, numbers right-aligned.
///
/// The header is bold only when standard output is a terminal and `NO_COLOR` is not set. Cells are
/// printed through `TerminalText.escaped`, so stored text cannot drive the terminal.
struct TextTable {
    enum Alignment: Sendable { case left, right }

    var header: [String]
    var alignments: [Alignment]
    var rows: [[String]] = []
    /// Spaces before each line.
    var indent = 0

    init(_ header: [String], alignments: [Alignment]? = nil) {
        self.header = header
        self.alignments = alignments ?? header.map { _ in .left }
    }

    mutating func append(_ row: [String]) { rows.append(row) }

    /// Whether to color: standard output is a terminal that is not `TERM=dumb` and `NO_COLOR` is unset or empty.
    static var usesColor: Bool {
        guard isatty(1) == 1, !Standard.terminalIsDumb else { return false }
        guard let value = getenv("NO_COLOR") else { return true }
        return value.pointee == 0
    }

    /// The table's lines, joined by line feeds, without a final one.
    func render(color: Bool = TextTable.usesColor) -> String {
        let widths = columnWidths()
        return ([header(widths: widths, color: color)] + rows.map { line($0, widths: widths) }).joined(separator: "\n")
    }

    /// The width of each column: its widest cell, header included.
    func columnWidths() -> [Int] {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], TerminalText.escaped(cell).count)
            }
        }
        return widths
    }

    /// The header line, bold when `color`.
    func header(widths: [Int], color: Bool = TextTable.usesColor) -> String {
        let text = line(header, widths: widths)
        return color ? "\u{1B}[1m" + text + "\u{1B}[0m" : text
    }

    /// One row laid out in `widths`; a wider cell pushes the rest of its line to the right.
    func line(_ cells: [String], widths: [Int]) -> String {
        var parts: [String] = []
        for (index, width) in widths.enumerated() {
            let cell = index < cells.count ? TerminalText.escaped(cells[index]) : ""
            let padding = String(repeating: " ", count: max(0, width - cell.count))
            let isLast = index == widths.count - 1
            switch alignments[min(index, alignments.count - 1)] {
            case .left: parts.append(isLast ? cell : cell + padding)
            case .right: parts.append(padding + cell)
            }
        }
        return String(repeating: " ", count: indent) + parts.joined(separator: "  ")
    }
}

/// Milliseconds for tables: three decimals below 10 ms, one above.
func milliseconds(_ seconds: Double) -> String {
    let ms = seconds * 1000
    return String(format1: ms, decimals: ms < 10 ? 3 : 1)
}
