/// Bytes shown as text a terminal prints safely: printable ASCII as it is, every other byte as `\xNN`.
/// For a name that is not UTF-8 (a file name in Latin-1), which a `String` would hold only with its bad
/// bytes replaced by U+FFFD, so naming another file.
public enum EscapedBytes {
    public static func shown(_ bytes: some Sequence<UInt8>) -> String {
        var shown = ""
        for byte in bytes {
            if (0x20..<0x7F).contains(byte) && byte != 0x5C {
                shown.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                shown += "\\x" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return shown
    }
}
