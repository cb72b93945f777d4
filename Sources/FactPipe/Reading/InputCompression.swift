/// The compression of an input, recognised from its first bytes rather than its name.
public enum InputCompression: String, Sendable, Hashable {
    /// Plain bytes.
    case none
    /// gzip (or zlib) data, starting with `1F 8B`.
    case gzip
    /// Zstandard frames, starting with `28 B5 2F FD` or a skippable frame `5x 2A 4D 18`.
    case zstd

    /// How many leading bytes `detect` looks at.
    static let magicLength = 4

    /// Recognises the compression from the first bytes of a stream (fewer than 4 bytes means plain).
    static func detect(_ prefix: [UInt8]) -> InputCompression {
        if prefix.count >= 4 {
            if prefix[0] == 0x28 && prefix[1] == 0xB5 && prefix[2] == 0x2F && prefix[3] == 0xFD {
                return .zstd
            }
            if prefix[0] & 0xF0 == 0x50 && prefix[1] == 0x2A && prefix[2] == 0x4D && prefix[3] == 0x18 {
                return .zstd
            }
        }
        if prefix.count >= 2 && prefix[0] == 0x1F && prefix[1] == 0x8B {
            return .gzip
        }
        return .none
    }
}
