/// Builds a Prometheus text-format exposition (version 0.0.4), as the node exporter's textfile
/// collector reads it: each family's `# HELP` and `# TYPE` lines, then its samples, one a line as
/// `name{label="value",…} number`.
///
/// Names must match `[a-zA-Z_:][a-zA-Z0-9_:]*` and label names `[a-zA-Z_][a-zA-Z0-9_]*`; those are
/// chosen in code, so a bad one is a programmer error. Label values and help text are escaped
/// (`\\`, `\"`, `\n`). Samples of a family must follow its `family` call.
public struct PrometheusTextWriter: Sendable {
    /// The metric types of the text format.
    public enum MetricType: String, Sendable {
        case counter, gauge, summary, histogram, untyped
    }

    /// The exposition written so far.
    public private(set) var text = ""
    private var families: Set<String> = []

    /// Creates an empty exposition.
    public init() {}

    /// Starts a family: writes its `# HELP` and `# TYPE` lines.
    public mutating func family(_ name: String, type: MetricType, help: String) {
        precondition(Self.isValidName(name, allowColon: true), "invalid metric name \(name)")
        precondition(!families.contains(name), "metric family \(name) declared twice")
        families.insert(name)
        text += "# HELP \(name) \(Self.escaped(help, quotes: false))\n# TYPE \(name) \(type.rawValue)\n"
    }

    /// Writes one sample of the current family (`name` may add `_sum`, `_count`, … to it).
    public mutating func sample(_ name: String, labels: [(String, String)] = [], _ value: Double) {
        precondition(Self.isValidName(name, allowColon: true), "invalid metric name \(name)")
        text += name
        if !labels.isEmpty {
            text += "{"
            for (index, label) in labels.enumerated() {
                precondition(Self.isValidName(label.0, allowColon: false), "invalid label name \(label.0)")
                if index > 0 { text += "," }
                text += "\(label.0)=\"\(Self.escaped(label.1, quotes: true))\""
            }
            text += "}"
        }
        text += " \(Self.format(value))\n"
    }

    /// Writes a family with a single sample.
    public mutating func single(_ name: String, type: MetricType, help: String, _ value: Double) {
        family(name, type: type, help: help)
        sample(name, value)
    }

    /// A number as the text format spells it: integers without a point, `+Inf`, `-Inf`, `NaN`.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    static func isValidName(_ name: String, allowColon: Bool) -> Bool {
        guard let first = name.utf8.first else { return false }
        func isLetter(_ byte: UInt8) -> Bool {
            (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || byte == 0x5F
                || (allowColon && byte == 0x3A)
        }
        return isLetter(first) && name.utf8.allSatisfy { isLetter($0) || (0x30...0x39).contains($0) }
    }

    private static func escaped(_ text: String, quotes: Bool) -> String {
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quotes: out += "\\\""
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
