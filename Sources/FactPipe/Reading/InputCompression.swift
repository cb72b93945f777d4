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

extension InputCompression {
    /// How many leading decoded bytes `unreadCompression` looks at.
    static let foreignMagicLength = 10

    /// The name of a compression or archive format that factpipe does not read, recognised from the first
    /// bytes of an input (or of what its gzip or zstd layer decodes to), with the command that unpacks it;
    /// nil when the bytes are none of those. Read as text, such a file was every line a refusal and the load
    /// `done`, so that its facts were never loaded (later runs skipped it as loaded). gzip and zstd are
    /// named too: inside another layer they are a second compression.
    static func unreadCompression(_ prefix: [UInt8]) -> (name: String, unpack: String)? {
        func starts(_ magic: [UInt8]) -> Bool { prefix.starts(with: magic) }
        if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return ("xz", "xz -dc") }
        // "BZh" and a block size could start a statement (`BZh9(x).`); the block or end-of-stream magic cannot.
        if prefix.count >= 10, starts([0x42, 0x5A, 0x68]), (0x31...0x39).contains(prefix[3]),
            Array(prefix[4..<10]) == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
                || Array(prefix[4..<10]) == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90]
        {
            return ("bzip2", "bzip2 -dc")
        }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) { return ("zip", "unzip -p") }
        if starts([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { return ("7z", "7z x -so") }
        if starts([0x04, 0x22, 0x4D, 0x18]) { return ("lz4", "lz4 -dc") }
        if starts([0x4C, 0x5A, 0x49, 0x50]) && prefix.count > 4 && prefix[4] == 0x01 { return ("lzip", "lzip -dc") }
        switch detect(Array(prefix.prefix(magicLength))) {
        case .gzip: return ("gzip", "gzip -dc")
        case .zstd: return ("zstd", "zstd -dc")
        case .none: return nil
        }
    }
}
