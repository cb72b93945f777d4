extension RecordDiagnostic {
    /// The diagnostic as one rejects-file line: source, line, offset, reason, message and the record.
    var rejectLine: String {
        var out: [UInt8] = []
        out.append(contentsOf: "{\"source\":".utf8)
        JSONText.appendQuoted(location.source, to: &out)
        out.append(contentsOf: ",\"line\":\(location.line),\"offset\":\(location.offset),\"reason\":".utf8)
        JSONText.appendQuoted(reason.rawValue, to: &out)
        out.append(contentsOf: ",\"message\":".utf8)
        JSONText.appendQuoted(message, to: &out)
        out.append(contentsOf: ",\"record\":".utf8)
        JSONText.appendQuoted(record, to: &out)
        out.append(contentsOf: "}\n".utf8)
        return String(decoding: out, as: UTF8.self)
    }
}
