extension RecordDiagnostic {
    /// The diagnostic as one rejects-file line: source, line, offset, reason, message and the record; when
    /// the record is not valid UTF-8, also `record_base64`, its exact bytes in base64 (RFC 4648, padded).
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
        if let recordBytes {
            out.append(contentsOf: ",\"record_base64\":\"".utf8)
            Self.appendBase64(recordBytes, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: "}\n".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Appends `bytes` in standard base64 with `=` padding.
    static func appendBase64(_ bytes: [UInt8], to out: inout [UInt8]) {
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var group = UInt32(bytes[index]) << 16
            if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { group |= UInt32(bytes[index + 2]) }
            for position in 0..<4 {
                if position <= count {
                    out.append(base64Alphabet[Int((group >> UInt32(18 - 6 * position)) & 0x3F)])
                } else {
                    out.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
    }
}
