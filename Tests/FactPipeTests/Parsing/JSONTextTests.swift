import Foundation
import Testing

@testable import FactPipe

@Suite struct JSONTextTests {
    @Test func quotesSpecialCharactersWithTheirShortEscapes() {
        #expect(JSONText.quoted("plain") == #""plain""#)
        #expect(JSONText.quoted(#"say "hi""#) == #""say \"hi\"""#)
        #expect(JSONText.quoted(#"a\b"#) == #""a\\b""#)
        #expect(JSONText.quoted("l1\nl2\r\tx") == #""l1\nl2\r\tx""#)
        #expect(JSONText.quoted("") == #""""#)
    }

    @Test func quotesOtherControlCharactersAsLowercaseUnicodeEscapes() {
        #expect(JSONText.quoted("\u{00}") == #""\u0000""#)
        #expect(JSONText.quoted("\u{01}x\u{1F}") == #""\u0001x\u001f""#)
        #expect(JSONText.quoted("\u{08}\u{0C}\u{0B}") == #""\u0008\u000c\u000b""#)
    }

    @Test func leavesNonASCIIAndDeleteAsTheyAre() {
        #expect(JSONText.quoted("LäuftAuf CO₂ 😀") == "\"LäuftAuf CO₂ 😀\"")
        #expect(JSONText.quoted("\u{7F}") == "\"\u{7F}\"")
    }

    @Test func everyControlCharacterRoundTripsThroughAJSONParser() throws {
        let text = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init))) + "\"\\/ end"
        let json = "[" + JSONText.quoted(text) + "]"
        let decoded = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String]
        #expect(decoded == [text])
    }

    @Test func arraysQuoteEachItem() throws {
        #expect(JSONText.array([]) == "[]")
        #expect(JSONText.array(["a", "b c", "q\""]) == #"["a","b c","q\""]"#)
    }

    @Test func objectsLetALaterMemberWithTheSameKeyWinInTheFirstOnesPlace() {
        let json = JSONText.object([(key: "a", json: "1"), (key: "b", json: "[2]"), (key: "a", json: #""three""#)])
        #expect(json == #"{"a":"three","b":[2]}"#)
    }

    @Test func emptyObjectIsBraces() {
        #expect(JSONText.object([]) == "{}")
    }

    @Test func objectKeysAreQuoted() throws {
        let json = JSONText.object([(key: "we\"ird\nkey", json: "null")])
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(decoded.keys.first == "we\"ird\nkey")
    }

    @Test func membersOfAnObjectComeBackAsJSONText() throws {
        let members = try JSONText.members(ofObject: #"{"s":"caf\u00e9","n":1.50,"o":{"x":[1]},"t":true,"z":null}"#)
        #expect(members.map(\.key) == ["s", "n", "o", "t", "z"])
        #expect(members.map(\.json) == [#""café""#, "1.50", #"{"x":[1]}"#, "true", "null"])
    }

    @Test func membersOfSomethingThatIsNotAnObjectThrow() {
        #expect(throws: JSONSyntaxError.self) { try JSONText.members(ofObject: "[1]") }
        #expect(throws: JSONSyntaxError.self) { try JSONText.members(ofObject: #"{"a":1"#) }
        #expect(throws: JSONSyntaxError.self) { try JSONText.members(ofObject: "") }
    }

    @Test func mergingMembersBackGivesValidJSON() throws {
        let members = try JSONText.members(ofObject: #"{"a":"x\ty","b":[1,2]}"#)
        let merged = JSONText.object(members + [(key: "a", json: JSONText.quoted("z"))])
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(merged.utf8)) as? [String: Any])
        #expect(decoded["a"] as? String == "z")
        #expect(decoded["b"] as? [Int] == [1, 2])
    }

    @Test func memberNamesAreWrittenPlainAndValuesLeftAsGiven() {
        #expect(JSONText.withPlainNames(#"{"\u0061":1,"n":{"\u0062":"\u0062\/","\/":[{"\"q\"":"x"}]}}"#)
            == #"{"a":1,"n":{"b":"\u0062\/","/":[{"\"q\"":"x"}]}}"#)
        // Escapes a name needs stay; text without a backslash is returned as it is.
        #expect(JSONText.withPlainNames(#"{"a\nb":1, "t\u0009": ["\u0041", {"\u00e9": 2}]}"#)
            == #"{"a\nb":1, "t\t": ["\u0041", {"é": 2}]}"#)
        #expect(JSONText.withPlainNames(#"{"k": "v", "l": [1, 2]}"#) == #"{"k": "v", "l": [1, 2]}"#)
    }
}
