/// A small checker for the statements the generator writes, independent of the library's grammar.
///
/// It accepts `Pred(a, b(c, d), [e, f], "q").` in canonical spacing and returns the predicate and
/// the top-level arguments, or nil when the text is malformed: no argument list, bad predicate,
/// unbalanced brackets or quotes, empty arguments, missing period, non-canonical spacing.
struct StatementShape: Equatable {
    var predicate: String
    var arguments: [String]

    init?(_ statement: String) {
        let characters = Array(statement)
        guard statement.hasSuffix(")."), let open = characters.firstIndex(of: "(") else { return nil }
        let predicate = String(characters[..<open])
        guard StatementShape.isName(predicate) else { return nil }
        let inner = characters[(open + 1)..<(characters.count - 2)]
        var arguments: [String] = []
        var current = ""
        var closers: [Character] = []
        var isQuoted = false
        var index = inner.startIndex
        while index < inner.endIndex {
            let character = inner[index]
            current.append(character)
            if isQuoted {
                if character == "\"" {
                    let following = inner.index(after: index)
                    if following < inner.endIndex && inner[following] == "\"" {
                        current.append("\"")
                        index = inner.index(after: following)
                        continue
                    }
                    isQuoted = false
                }
                index = inner.index(after: index)
                continue
            }
            switch character {
            case "\"": isQuoted = true
            case "(": closers.append(")")
            case "[": closers.append("]")
            case ")", "]":
                guard closers.popLast() == character else { return nil }
            case ",":
                // Canonical: exactly one space after every comma, then something that is not a space.
                let space = inner.index(after: index)
                let next = inner.index(after: space)
                guard space < inner.endIndex, inner[space] == " ", next < inner.endIndex, inner[next] != " ",
                    inner[next] != ","
                else { return nil }
                if closers.isEmpty {
                    current.removeLast()
                    arguments.append(current)
                    current = ""
                    index = next
                    continue
                }
                current.append(" ")
                index = next
                continue
            case " " where current.count == 1:
                return nil
            default: break
            }
            index = inner.index(after: index)
        }
        guard closers.isEmpty, !isQuoted, !current.isEmpty else { return nil }
        arguments.append(current)
        guard arguments.allSatisfy({ !$0.isEmpty && $0.first != " " && $0.last != " " }) else { return nil }
        self.predicate = predicate
        self.arguments = arguments
    }

    /// `(letter | "_") {letter | digit | "_" | "-"}`, letters and digits in the Unicode sense.
    static func isName(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
    }
}
