import Foundation
import Testing
@testable import FactPipe

private let comma = UInt8(ascii: ",")
private let tab = UInt8(ascii: "\t")

private func limits(maxRecordBytes: Int) -> FactLimits {
    var limits = FactLimits()
    limits.maxRecordBytes = maxRecordBytes
    return limits
}

@Test func csvRecordsKeepQuotedNewlinesDelimitersAndQuotes() throws {
    let dir = try TemporaryDirectory()
    let text = "id,name,note\r\n"  // line 1, offset 0
        + "1,\"Smith, J\",\"said \"\"hi\"\"\"\r\n"  // line 2, offset 14
        + "2,\"multi\nline\r\nnote\",x\n"  // lines 3-5, offset 42
        + "\n"  // line 6, empty
        + "3,plain,\"q\"\n"  // line 7, offset 66
        + "\"4\",\"last\",end"  // line 8, offset 78, no final newline
    let path = try dir.write("people.csv", text)
    let reader = try InputReader(path: path, limits: .default)
    let (records, chunks) = try readAll(reader, framing: .csv(delimiter: comma))
    #expect(records == [
        SeenRecord(text: "id,name,note", line: 1, offset: 0),
        SeenRecord(text: "1,\"Smith, J\",\"said \"\"hi\"\"\"", line: 2, offset: 14),
        SeenRecord(text: "2,\"multi\nline\r\nnote\",x", line: 3, offset: 42),
        SeenRecord(text: "3,plain,\"q\"", line: 7, offset: 66),
        SeenRecord(text: "\"4\",\"last\",end", line: 8, offset: 78),
    ])
    #expect(chunks.last?.endLine == 9)
    #expect(chunks.last?.endOffset == Int64(text.utf8.count))
    let fields = try records.map { try CSVFieldSplitter.fields(Array($0.text.utf8)[...], delimiter: comma) }
    #expect(fields[1] == ["1", "Smith, J", "said \"hi\""])
    #expect(fields[2] == ["2", "multi\nline\r\nnote", "x"])
    #expect(fields[4] == ["4", "last", "end"])
}

@Test func tsvRecordsWithQuotedTabsAndNewlines() throws {
    let dir = try TemporaryDirectory()
    let text = "a\tb\n\"x\ty\"\t\"two\nlines\"\nplain,comma\tz\n"
    let path = try dir.write("data.tsv", text)
    let records = try readAll(try InputReader(path: path, limits: .default), framing: .csv(delimiter: tab)).records
    #expect(records == [
        SeenRecord(text: "a\tb", line: 1, offset: 0),
        SeenRecord(text: "\"x\ty\"\t\"two\nlines\"", line: 2, offset: 4),
        SeenRecord(text: "plain,comma\tz", line: 4, offset: 22),
    ])
    let second = try CSVFieldSplitter.fields(Array(records[1].text.utf8)[...], delimiter: tab)
    #expect(second == ["x\ty", "two\nlines"])
}

@Test func strayQuoteInUnquotedFieldDoesNotSwallowFollowingLines() throws {
    let dir = try TemporaryDirectory()
    let path = try dir.write("stray.csv", "ab\"c,d\ne,f\n\"g\"h,i\nj\n")
    let records = try readAll(try InputReader(path: path, limits: .default), framing: .csv(delimiter: comma)).records
    #expect(records.map(\.line) == [1, 2, 3, 4])
    #expect(records.map(\.text) == ["ab\"c,d", "e,f", "\"g\"h,i", "j"])
}

@Test func csvFileCrossingReadBlocksMatchesGeneratedRecords() throws {
    let dir = try TemporaryDirectory()
    var text = ""
    var expected: [SeenRecord] = []
    var line = 1
    var index = 0
    while text.utf8.count < 1_000_000 {
        let note: String
        let newlines: Int
        switch index % 5 {
        case 0:
            note = "\"a, \"\"quoted\"\"\nnote \(index)\r\nthird\""
            newlines = 2
        case 1:
            note = "plain \(index)"
            newlines = 0
        case 2:
            note = "\"\(String(repeating: "long;", count: index % 97))\""
            newlines = 0
        case 3:
            note = ""
            newlines = 0
        default:
            note = "\"\(String(repeating: "\n", count: index % 4))\""
            newlines = index % 4
        }
        let record = "\(index),name \(index),\(note)"
        expected.append(SeenRecord(text: record, line: line, offset: Int64(text.utf8.count)))
        text += record + (index % 3 == 0 ? "\r\n" : "\n")
        line += 1 + newlines
        if index % 11 == 0 {
            text += "\n"
            line += 1
        }
        index += 1
    }
    let path = try dir.write("big.csv", text)
    try zstdCLI(path, dir.path("big.csv.zst"))
    for name in ["big.csv", "big.csv.zst"] {
        let reader = try InputReader(path: dir.path(name), limits: .default)
        let (records, chunks) = try readAll(reader, framing: .csv(delimiter: comma), targetBytes: 100_000)
        #expect(records == expected, "\(name)")
        #expect(chunks.count > 5)
        #expect(chunks.last?.endLine == line)
    }
}

@Test func oversizedCSVRecordCountsItsEmbeddedNewlines() throws {
    let dir = try TemporaryDirectory()
    // Quoted newlines within the limit, then a single line far larger than a read block.
    let big = "1,\"a\nb\",x\n2," + String(repeating: "b", count: 600_000) + "\r\n3,after\n"
    let bigPath = try dir.write("big.csv", big)
    let bigRecords = try readAll(
        try InputReader(path: bigPath, limits: limits(maxRecordBytes: 1000)), framing: .csv(delimiter: comma)
    ).records
    let prefix = String(decoding: big.utf8.dropFirst(10).prefix(1024), as: UTF8.self)
    #expect(bigRecords == [
        SeenRecord(text: "1,\"a\nb\",x", line: 1, offset: 0),
        SeenRecord(text: prefix, line: 3, offset: 10, isOversized: true),
        SeenRecord(text: "3,after", line: 4, offset: Int64(big.utf8.count - 8)),
    ])
}

/// A quoted field that runs over lines past the limit, or to the end of the input, is taken for a quote
/// never closed: the line that opened it is one record, and reading goes on at the next line.
@Test func aQuoteRunningOverLinesPastTheLimitEndsAtTheLineThatOpenedIt() throws {
    let dir = try TemporaryDirectory()
    let text = "1,x\r\n2,\"open\r\n" + String(repeating: "3,y\r\n", count: 100) + "4,\"never\n5,z\n"
    let path = try dir.write("open.csv", text)
    let records = try readAll(
        try InputReader(path: path, limits: limits(maxRecordBytes: 100)), framing: .csv(delimiter: comma)
    ).records
    #expect(records.map(\.text) == ["1,x", "2,\"open"] + Array(repeating: "3,y", count: 100) + ["4,\"never", "5,z"])
    #expect(records.map(\.line) == Array(1...104))
    #expect(records.allSatisfy { !$0.isOversized })
}
