import Foundation
import Testing

@testable import FactPipe

/// COPY data goes to libpq in pieces: its length is an `Int32`, and one call of more than 2 GiB would trap.
/// Pieces of a few bytes, cut through rows and escapes, must give the server the same rows.
@Suite(.enabled(if: PostgreSQLTestAddress.isEnabled, PostgreSQLTestAddress.skipReason))
struct PostgreSQLCopyPiecesTests {
    @Test func rowsSentInPiecesOfThreeBytesArriveWhole() throws {
        let connection = try PostgreSQLConnection(address: try PostgreSQLTestAddress.server())
        try connection.execute("CREATE TEMP TABLE pieces(a text, b text)")
        var row = PostgreSQLCopyRow()
        row.field("Café\ttab", first: true)
        row.field("line\nend")
        row.endRow()
        row.field("second", first: true)
        row.field(nil as String?)
        row.endRow()
        try connection.beginCopy("COPY pieces (a, b) FROM STDIN")
        try connection.putCopyData(row.bytes, pieceBytes: 3)
        #expect(try connection.endCopy() == 2)
        let result = try connection.execute("SELECT a, coalesce(b, 'NULL') FROM pieces ORDER BY a")
        #expect(result.rowCount == 2)
        #expect(result.text(0, 0) == "Café\ttab" && result.text(0, 1) == "line\nend")
        #expect(result.text(1, 0) == "second" && result.text(1, 1) == "NULL")
    }
}
