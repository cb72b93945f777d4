import Foundation
import Testing

@testable import FactPipe

/// `JSONDocument`, the writer of every JSON output, and the one function that quotes its strings.
@Suite struct JSONDocumentTests {
    /// Text with every character JSON or a JavaScript reader treats specially.
    private static let awkward =
        "q\"b\\s/\u{0}\u{1}\u{8}\t\n\u{B}\u{C}\r\u{1B}\u{1F} del\u{7F} ls\u{2028} ps\u{2029} "
        + "bmp\u{FEFF}é non-bmp😀\u{10FFFF}"

    @Test func stringsAreEscapedOnceInOnePlace() {
        #expect(JSONDocument.string(Self.awkward).text == JSONText.quoted(Self.awkward))
        #expect(JSONDocument.string("q\"b\\\u{1}\n").text == #""q\"b\\\u0001\n""#)
        // Above the controls everything is written as UTF-8, U+2028/2029 and non-BMP characters included.
        #expect(JSONDocument.string("\u{2028}\u{2029}😀").text == "\"\u{2028}\u{2029}😀\"")
    }

    @Test func everyAwkwardStringRoundTripsThroughJSONSerialization() throws {
        let document: JSONDocument = [
            "text": .string(Self.awkward), Self.awkward: .strings([Self.awkward, ""]), "none": .null,
        ]
        let object = try #require(
            JSONSerialization.jsonObject(with: Data(document.text.utf8)) as? [String: Any])
        #expect(object["text"] as? String == Self.awkward)
        #expect(object[Self.awkward] as? [String] == [Self.awkward, ""])
        #expect(object["none"] is NSNull)
    }

    @Test func fixedNumbersKeepTheirPlaces() {
        #expect(JSONDocument.fixed(2, decimals: 3).text == "2.000")
        #expect(JSONDocument.fixed(0.1234, decimals: 3).text == "0.123")
        #expect(JSONDocument.fixed(1.9996, decimals: 3).text == "2.000")
        #expect(JSONDocument.fixed(-0.05, decimals: 2).text == "-0.05")
        #expect(JSONDocument.fixed(12.5, decimals: 0).text == "13")
        #expect(JSONDocument.fixed(.infinity, decimals: 3).text == "null")
    }

    @Test func membersKeepTheirOrder() {
        let document: JSONDocument = ["b": 1, "a": [.bool(true), .bool(false)], "c": .number(0.5)]
        #expect(document.text == #"{"b":1,"a":[true,false],"c":0.5}"#)
    }
}
