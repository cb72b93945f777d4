/// Building statement text: well-formed canonical facts and the deliberately malformed ones.
extension FactGenerator {
    /// Share of facts with a `role:value`, quantity, list or quoted argument.
    static let specialArgumentRate = 0.03
    /// Share of plain arguments that are numbers rather than names.
    static let numericArgumentRate = 0.02

    /// A canonical statement: `Pred(a, b).`, with arity 2 for ~85% of facts.
    mutating func makeStatement() -> String {
        let predicate = pickPredicate()
        let arity = pickArity()
        let specialIndex = random.chance(Self.specialArgumentRate) ? random.next(below: arity) : -1
        var text = predicate
        text.reserveCapacity(predicate.utf8.count + arity * 24)
        text += "("
        for index in 0..<arity {
            if index > 0 { text += ", " }
            if index == specialIndex {
                appendSpecialArgument(to: &text)
            } else {
                appendPlainArgument(to: &text)
            }
        }
        text += ")."
        return text
    }

    /// A statement (or stand-in text) for a malformed record of `kind`.
    mutating func makeInvalidStatement(_ kind: GeneratedRecord.InvalidKind) -> String {
        switch kind {
        case .unbalancedParenthesis:
            let predicate = pickPredicate()
            let first = pickEntity()
            let second = pickEntity()
            switch random.next(below: 3) {
            case 0: return "\(predicate)(\(first), \(second)(\(pickEntity())."
            case 1: return "\(predicate)(\(first), \(second)."
            default: return "\(predicate)(\(first), [\(second), \(pickEntity()))."
            }
        case .freeText:
            let sentence = random.pick(GeneratorWords.freeText)
            return random.chance(0.5) ? sentence : sentence + " " + pickEntity()
        case .emptyArgument:
            let predicate = pickPredicate()
            switch random.next(below: 4) {
            case 0: return "\(predicate)(\(pickEntity()),,\(pickEntity()))."
            case 1: return "\(predicate)(\(pickEntity()), , \(pickEntity()))."
            case 2: return "\(predicate)()."
            default: return "\(predicate)(\(pickEntity()), )."
            }
        case .quantifiedFormula:
            let first = pickPredicate()
            let second = pickPredicate()
            let quantifier = random.chance(0.7) ? "all" : "exists"
            return "\(quantifier) x (\(first)(x) -> \(second)(x, \(pickEntity())))."
        case .confidenceOutOfRange, .truncatedJSON, .missingStatement:
            // The flaw is in the record around the statement, not in the statement itself.
            return makeStatement()
        }
    }

    mutating func pickPredicate() -> String {
        vocabulary.predicates[vocabulary.predicateIndex(forUnit: random.nextUnit())]
    }

    /// 30% of draws from the ~2,000 popular entities, the rest from all of them.
    mutating func pickEntity() -> String {
        let pool = random.chance(0.3) ? vocabulary.popularEntityCount : vocabulary.entities.count
        return vocabulary.entities[random.next(below: pool)]
    }

    /// 2 for 85%, then 1 (6%), 3 (5%), 4 (3%) and 5 (1%).
    mutating func pickArity() -> Int {
        switch random.next(below: 100) {
        case 0..<85: 2
        case 85..<91: 1
        case 91..<96: 3
        case 96..<99: 4
        default: 5
        }
    }

    /// A name, or now and then a number such as `3669491` or `2.72`.
    private mutating func appendPlainArgument(to text: inout String) {
        guard random.chance(Self.numericArgumentRate) else {
            text += pickEntity()
            return
        }
        if random.chance(0.5) {
            text += String(random.next(in: 0...10_000_000))
        } else {
            text += String(random.next(in: 0...999)) + "." + String(random.next(in: 1...99))
        }
    }

    /// `role:Name`, `start:2025-08-20`, `Q(298, K)`, `T:Q(2.3e-4, s^-1, err_rel:5)`, a list or a quote.
    private mutating func appendSpecialArgument(to text: inout String) {
        switch random.next(below: 10) {
        case 0..<3:
            text += random.pick(GeneratorWords.roles) + ":" + pickEntity()
        case 3:
            text += random.pick(GeneratorWords.roles) + ":2025-"
            text += twoDigits(random.next(in: 1...12)) + "-" + twoDigits(random.next(in: 1...28))
        case 4..<6:
            appendQuantity(to: &text)
        case 6..<8:
            text += random.pick(GeneratorWords.roles) + ":"
            appendQuantity(to: &text)
        case 8:
            text += "[" + pickEntity()
            for _ in 0..<random.next(in: 1...3) { text += ", " + pickEntity() }
            text += "]"
        default:
            appendQuotedString(to: &text)
        }
    }

    /// `Q(298, K)`, `Q(2.3e-4, s^-1)` or `Q(15, mol/L, err_rel:5)`.
    private mutating func appendQuantity(to text: inout String) {
        text += "Q("
        switch random.next(below: 3) {
        case 0: text += String(random.next(in: 1...5_000))
        case 1: text += String(random.next(in: 1...99)) + "." + String(random.next(in: 0...9))
        default:
            text +=
                String(random.next(in: 1...9)) + "." + String(random.next(in: 0...9)) + "e-"
                + String(random.next(in: 1...9))
        }
        text += ", " + random.pick(GeneratorWords.units)
        if random.chance(0.25) { text += ", err_rel:" + String(random.next(in: 1...20)) }
        text += ")"
    }

    /// A quoted argument exercising escapes downstream: `"Know thyself"`, `"He said ""no"""`, `"C:\kb"`.
    private mutating func appendQuotedString(to text: inout String) {
        switch random.next(below: 4) {
        case 0: text += "\"Know thyself\""
        case 1: text += "\"He said \"\"no\"\" to \(pickEntity())\""
        case 2: text += "\"C:\\kb\\\(pickEntity()).txt\""
        default: text += "\"Größe: \(random.next(in: 1...500)) m²\""
        }
    }

    private func twoDigits(_ value: Int) -> String {
        value < 10 ? "0" + String(value) : String(value)
    }
}
