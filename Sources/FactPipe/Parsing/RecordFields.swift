/// What a parser found in one record, before validation: the fact's parts and its side fields.
///
/// Every field is optional; the validator decides what the record means and whether it is valid.
struct RecordFields {
    /// A statement given whole; authoritative when present.
    var statement: String?
    var predicate: String?
    var args: [String]?
    var subject: String?
    var object: String?
    /// Arguments from CSV columns `arg3`, `arg4`, … by position (index 0 is arg3).
    var extraArgs: [String?] = []
    var confidence: Double?
    /// A confidence given as text (CSV, or a JSON string), parsed by the validator.
    var confidenceText: String?
    var source: String?
    var createdAt: String?
    /// Epoch seconds as written, read by the validator as the decimal they are.
    var timestampText: String?
    /// True when `timestampText` was a JSON number, not a string (kept as one in `fact_metadata` beside a
    /// `created_at`).
    var timestampIsNumber = false
    /// The context object's JSON text, already checked to be an object.
    var context: String?
    /// Members to merge into the context (`tags`, `certainty`), values as JSON text.
    var contextExtras: [(key: String, json: String)] = []
    /// The metadata object's JSON text, already checked to be an object.
    var metadata: String?
    /// Every other input field, values as JSON text, kept in `fact_metadata`.
    var metadataExtras: [(key: String, json: String)] = []

    /// The most arguments a record may give by position (`arg64`).
    static let lastArgumentPosition = 64

    /// The position a field name gives an argument, 1-based: `arg1` (the subject) … `arg64`, any case;
    /// nil for any other name.
    static func argumentPosition(_ name: String) -> Int? {
        guard let position = argumentNumber(name), position <= lastArgumentPosition else { return nil }
        return position
    }

    /// The number in a name spelled as an argument by position, past `arg64` too (`arg65`, `ARG100`);
    /// nil for any other name (`arg0`, `args`, `argx`).
    static func argumentNumber(_ name: String) -> Int? {
        let lower = name.lowercased()
        guard lower.hasPrefix("arg") else { return nil }
        let number = lower.dropFirst(3)
        if let position = Int(number) { return position >= 1 ? position : nil }  // `arg03`, `arg+3` too
        let digits = number.first == "+" ? number.dropFirst() : number
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
        return Int.max  // more digits than an Int holds
    }

    /// The argument at `position` (1-based), nil when none was given.
    func argument(at position: Int) -> String? {
        switch position {
        case 1: subject
        case 2: object
        default: position - 3 < extraArgs.count ? extraArgs[position - 3] : nil
        }
    }

    /// Sets the argument at `position` (1-based: the subject, the object, then arg3 …).
    mutating func setArgument(_ value: String, at position: Int) {
        switch position {
        case 1: subject = value
        case 2: object = value
        default:
            let index = position - 3
            if extraArgs.count <= index { extraArgs.append(contentsOf: Array(repeating: nil, count: index + 1 - extraArgs.count)) }
            extraArgs[index] = value
        }
    }
}

/// Why a record's fields could not be read.
struct FieldError: Error {
    var reason: RecordDiagnostic.Reason
    var message: String
}
