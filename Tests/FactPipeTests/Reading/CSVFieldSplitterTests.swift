import Testing
@testable import FactPipe

private func split(_ text: String, _ delimiter: UInt8 = UInt8(ascii: ",")) throws(CSVFieldError) -> [String] {
    try CSVFieldSplitter.fields(Array(text.utf8)[...], delimiter: delimiter)
}

private func splitError(_ bytes: [UInt8]) -> CSVFieldError? {
    do {
        _ = try CSVFieldSplitter.fields(bytes[...], delimiter: UInt8(ascii: ","))
        return nil
    } catch {
        return error
    }
}

@Test func splitsPlainAndQuotedFields() throws {
    #expect(try split("a,b,c") == ["a", "b", "c"])
    #expect(try split("a,,c,") == ["a", "", "c", ""])
    #expect(try split("") == [""])
    #expect(try split(",") == ["", ""])
    #expect(try split("\"x, y\",z") == ["x, y", "z"])
    #expect(try split("\"say \"\"hi\"\"\",\"\"") == ["say \"hi\"", ""])
    #expect(try split("\"line1\nline2\r\nline3\",end") == ["line1\nline2\r\nline3", "end"])
    #expect(try split("\"\"\"\"") == ["\""])
    #expect(try split("ünï,\"cödé\"") == ["ünï", "cödé"])
}

@Test func splitsTabSeparatedFields() throws {
    #expect(try split("a\tb,c\t\"q\tq\"", UInt8(ascii: "\t")) == ["a", "b,c", "q\tq"])
}

@Test func splitsFromARawBufferSlice() throws {
    let bytes = Array("skip|x,\"y\"|skip".utf8)
    let fields = try bytes.withUnsafeBytes { raw in
        try CSVFieldSplitter.fields(UnsafeRawBufferPointer(rebasing: raw[5..<10]), delimiter: UInt8(ascii: ","))
    }
    #expect(fields == ["x", "y"])
}

@Test func reportsQuoteInsideUnquotedField() throws {
    let error = try #require(splitError(Array("ab,c\"d".utf8)))
    #expect(error.kind == .quoteInUnquotedField)
    #expect(error.column == 5)
}

@Test func reportsTextAfterClosingQuote() throws {
    let error = try #require(splitError(Array("a,\"bc\"d,e".utf8)))
    #expect(error.kind == .textAfterClosingQuote)
    #expect(error.column == 7)
    #expect(error.description == "column 7: unexpected text after a closing quote")
}

@Test func reportsUnterminatedQuote() throws {
    let error = try #require(splitError(Array("a,\"bc,d".utf8)))
    #expect(error.kind == .unterminatedQuote)
    #expect(error.column == 3)
    let escapedAtEnd = try #require(splitError(Array("\"ab\"\"".utf8)))
    #expect(escapedAtEnd.kind == .unterminatedQuote)
}

@Test func reportsInvalidUTF8WithItsByte() throws {
    let error = try #require(splitError(Array("ok,b".utf8) + [0xC3, 0x28]))
    #expect(error.kind == .invalidUTF8)
    #expect(error.column == 5)
    #expect(error.message == "invalid UTF-8 at byte 5")
    let surrogate = try #require(splitError([0x22, 0xED, 0xA0, 0x80, 0x22]))
    #expect(surrogate.kind == .invalidUTF8)
    #expect(surrogate.column == 2)
}
