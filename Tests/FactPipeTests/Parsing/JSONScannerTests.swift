import Foundation
import Testing

@testable import FactPipe

/// A member as the tests compare it: the key and the value's JSON text (strings decoded and re-quoted).
private struct Member: Equatable, CustomStringConvertible {
    var key: String
    var json: String
    var description: String { "\(key)=\(json)" }
}

/// Scans `text` as one object with `JSONScanner.scanMembers`.
private func scanMembers(_ text: String) -> Result<[Member], JSONSyntaxError> {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBufferPointer { buffer in
        var scanner = JSONScanner(buffer)
        do throws(JSONSyntaxError) {
            let members = try scanner.scanMembers()
            return .success(members.map { Member(key: $0.key, json: JSONText.json(of: $0.value, in: buffer)) })
        } catch {
            return .failure(error)
        }
    }
}

/// Scans `text` as one object and returns its members' decoded values.
private func scanValues(_ text: String) throws -> [String: JSONValue] {
    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBufferPointer { buffer in
        var scanner = JSONScanner(buffer)
        var values: [String: JSONValue] = [:]
        try scanner.scanObject { key, value in values[key] = value }
        return values
    }
}

private func scanError(_ text: String) -> JSONSyntaxError? {
    if case .failure(let error) = scanMembers(text) { return error }
    return nil
}

@Suite struct JSONScannerTests {
    @Test func decodesEveryEscapeOfAString() throws {
        let values = try scanValues(#"{"s":"q\" b\\ s\/ b\b f\f n\n r\r t\t"}"#)
        #expect(values["s"] == .string("q\" b\\ s/ b\u{08} f\u{0C} n\n r\r t\t"))
    }

    @Test func decodesUnicodeEscapesAndSurrogatePairs() throws {
        let values = try scanValues(#"{"e":"caf\u00e9","g":"\u03A9\u2082","smile":"\ud83d\ude00!","plain":"Straße"}"#)
        #expect(values["e"] == .string("café"))
        #expect(values["g"] == .string("Ω₂"))
        #expect(values["smile"] == .string("😀!"))
        #expect(values["plain"] == .string("Straße"))
    }

    @Test func keepsTheExactTextOfNumbers() throws {
        let values = try scanValues(#"{"a":0,"b":-12.5e+2,"c":1E3,"d":0.25,"e":-0}"#)
        #expect(values["a"] == .number(0, "0"))
        #expect(values["b"] == .number(-1250, "-12.5e+2"))
        #expect(values["c"] == .number(1000, "1E3"))
        #expect(values["d"] == .number(0.25, "0.25"))
        #expect(values["e"] == .number(0, "-0"))
    }

    @Test func readsLiteralsAndKeepsContainersAsTheirText() throws {
        let text = #" { "o" : {"a":[1,{"b":null}],"c":"}"} , "l":[ ], "t":true,"f":false,"z":null } "#
        let members = try scanMembers(text).get()
        #expect(members == [
            Member(key: "o", json: #"{"a":[1,{"b":null}],"c":"}"}"#),
            Member(key: "l", json: "[ ]"),
            Member(key: "t", json: "true"),
            Member(key: "f", json: "false"),
            Member(key: "z", json: "null"),
        ])
    }

    @Test func keepsMembersInInputOrderWithDuplicateKeys() throws {
        let members = try scanMembers(#"{"b":1,"a":2,"b":3}"#).get()
        #expect(members.map(\.key) == ["b", "a", "b"])
        #expect(members.map(\.json) == ["1", "2", "3"])
    }

    /// Inside a value, a name given twice is refused at any depth and for objects of any size (jsonb keeps
    /// the last value, SQLite's json_extract reads the first); names are compared as bytes, as jsonb does.
    @Test func aNameGivenTwiceInANestedObjectIsRefused() throws {
        let twice = try #require(scanError(#"{"context":{"k":1,"k":2}}"#))
        #expect(twice.message == #"a name is given twice in one object ("k"); one of its values would be lost"#)
        #expect(twice.index == 18, "at the second name")
        #expect(scanError(#"{"c":[{"x":{"a":1,"b":{"a":3},"a":2}}]}"#) != nil)
        #expect(scanError(#"{"c":{"k":1,"\u006b":2}}"#) != nil, "the same name escaped")
        let many = (0..<40).map { #""n\#($0)":\#($0)"# }.joined(separator: ",")
        #expect(scanError(#"{"c":{"# + many + #","n39":0}}"#) != nil, "past the first 16 names")
        #expect(scanError(#"{"c":{"# + many + #"}}"#) == nil)
        #expect(scanError(#"{"c":{"k":1,"K":2,"\u00e9":1,"e\u0301":2},"d":{"k":1}}"#) == nil)
        // An object alone (a context given as a string, a CSV cell) is checked as a nested one is.
        func problem(_ text: String, refusing: Bool = true) -> String? {
            var bytes = Array(text.utf8)
            return bytes.withUnsafeMutableBufferPointer { buffer in
                var scanner = JSONScanner(UnsafeBufferPointer(buffer))
                scanner.refusesRepeatedNames = refusing
                return scanner.objectAloneProblem()
            }
        }
        #expect(problem(#"{"k":1,"k":2}"#)?.hasPrefix("a name is given twice in one object") == true)
        #expect(problem(#" {"k":1,"k":2} "#, refusing: false) == nil, "kept for a restore")
        #expect(problem(#"{"k":{"a":1},"j":{"a":2}}"#) == nil)
        #expect(problem(#"["k"]"#) == "it does not start with {" && problem(#"{"k":1} x"#) == "more follows the object")
        // The reason, as for an object inside a record: a context 65 levels deep was called no object at all.
        let deep = String(repeating: #"{"k":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(problem(deep) == "JSON nested deeper than 64 levels", "\(problem(deep) ?? "nil")")
    }

    @Test func acceptsAnEmptyObject() throws {
        #expect(try scanMembers("{}").get().isEmpty)
        #expect(try scanMembers(" \t{ }\r").get().isEmpty)
    }

    @Test func nestingUpToTheDepthLimitIsAcceptedAndOneMoreIsRefused() throws {
        let depth = JSONScanner.maxDepth
        #expect(depth == 64)
        let deepest = #"{"a":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        #expect(try scanMembers(deepest).get().count == 1)
        let tooDeep = #"{"a":"# + String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1) + "}"
        let error = try #require(scanError(tooDeep))
        // The 65th bracket: 5 bytes of `{"a":` and 64 brackets before it.
        #expect(error.index == 5 + depth)
        #expect(error.message.contains("deeper than 64"))
    }

    /// Each malformed object, and the 0-based byte index of the first byte that cannot continue it.
    @Test(arguments: [
        ("", 0, "expected '{'"),
        ("[1]", 0, "expected '{'"),
        (#"{"a":1"#, 6, "object not closed"),
        (#"{"a" 1}"#, 5, "expected ':'"),
        ("{a:1}", 1, "quoted member name"),
        (#"{"a":1,}"#, 7, "quoted member name"),
        (#"{"a":01}"#, 6, "expected ',' or '}'"),
        (#"{"a":1} x"#, 8, "text after the JSON object"),
        (#"{"a":1}}"#, 7, "text after the JSON object"),
        (#"{"a":"x"#, 7, "string not closed"),
        (#"{"a":"\x"}"#, 7, "invalid escape"),
        (#"{"a":"\u12G4"}"#, 10, "invalid hex digit"),
        (#"{"a":"\u12"}"#, 10, "invalid hex digit"),
        (#"{"a":"\ud800"}"#, 12, "lone high surrogate"),
        (#"{"a":"\ud800\u0041"}"#, 18, "invalid low surrogate"),
        (#"{"a":"\udc00"}"#, 12, "lone low surrogate"),
        ("{\"a\":\"tab\there\"}", 9, "control character"),
        ("{\"a\":\"line\nbreak\"}", 10, "control character"),
        (#"{"a":tru}"#, 5, "invalid literal"),
        (#"{"a":nul"#, 5, "unexpected end"),
        (#"{"a":-}"#, 6, "invalid value"),
        (#"{"a":+1}"#, 5, "invalid value"),
        (#"{"a":.5}"#, 5, "invalid value"),
        (#"{"a":NaN}"#, 5, "invalid value"),
        (#"{"a":1.}"#, 7, "digit expected after '.'"),
        (#"{"a":1e}"#, 7, "digit expected in exponent"),
        (#"{"a":[1,2}"#, 9, "expected ',' or a closing bracket"),
        (#"{"a":{"b"}}"#, 9, "expected ':'"),
        (#"{"a":[1,]}"#, 8, "invalid value"),
        (#"{"a":"#, 5, "expected a value"),
    ])
    func refusesMalformedJSONAtTheOffendingByte(text: String, index: Int, message: String) {
        guard let error = scanError(text) else {
            Issue.record("accepted \(text.debugDescription)")
            return
        }
        #expect(error.index == index, "\(text.debugDescription): \(error)")
        #expect(error.message.contains(message), "\(text.debugDescription): \(error.message)")
    }

    @Test func scalarArraysGiveTheTextOfStringsAndNumbers() throws {
        let bytes = Array(#" [ "a" , 1, -2.5e1, "x\"y" ] "#.utf8)
        let items = try bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            return try scanner.scanScalarArray()
        }
        #expect(items == ["a", "1", "-2.5e1", "x\"y"])
    }

    @Test(arguments: [#"[true]"#, #"[["a"]]"#, #"[{"a":1}]"#, #"[null]"#, #"["a""#, #"["a" "b"]"#, #"{"a":1}"#])
    func scalarArraysRefuseOtherElementsAndMalformedText(text: String) {
        let bytes = Array(text.utf8)
        let refused = bytes.withUnsafeBufferPointer { buffer -> Bool in
            var scanner = JSONScanner(buffer)
            return (try? scanner.scanScalarArray()) == nil
        }
        #expect(refused, "\(text)")
    }

    @Test func scansOnlyTheGivenRange() throws {
        let bytes = Array(#"xx{"a":1}yy"#.utf8)
        let members = try bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer, range: 2..<9)
            return try scanner.scanMembers()
        }
        #expect(members.count == 1)
        #expect(members.first?.key == "a")
    }
}
