/// Checks that bytes are well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
///
/// Runs of ASCII are checked eight bytes at a time.
public enum UTF8Validation {
    /// True when `bytes` is well-formed UTF-8.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        firstInvalidOffset(bytes) == nil
    }

    /// True when `bytes` is well-formed UTF-8.
    public static func isValid(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBytes { isValid($0) }
    }

    /// True when `bytes` is well-formed UTF-8.
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isValid($0) }
    }

    /// The 0-based offset of the first byte of the first ill-formed sequence, or nil when `bytes` is valid UTF-8.
    public static func firstInvalidOffset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else {
            return nil
        }
        let count = bytes.count
        let p = base.assumingMemoryBound(to: UInt8.self)
        var i = 0
        while i < count {
            while i + 8 <= count && (base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
            }
            if i >= count {
                break
            }
            let lead = p[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF:
                length = 2
            case 0xE0...0xEF:
                length = 3
                if lead == 0xE0 {
                    low = 0xA0  // overlong below U+0800
                } else if lead == 0xED {
                    high = 0x9F  // UTF-16 surrogates U+D800...U+DFFF
                }
            case 0xF0...0xF4:
                length = 4
                if lead == 0xF0 {
                    low = 0x90  // overlong below U+10000
                } else if lead == 0xF4 {
                    high = 0x8F  // above U+10FFFF
                }
            default:
                return i  // continuation byte without lead, C0/C1 overlong leads, F5...FF
            }
            guard i + length <= count else {
                return i
            }
            let second = p[i + 1]
            guard second >= low && second <= high else {
                return i
            }
            var k = 2
            while k < length {
                guard p[i + k] & 0xC0 == 0x80 else {
                    return i
                }
                k += 1
            }
            i += length
        }
        return nil
    }

    /// The 0-based offset (from the slice's start) of the first ill-formed sequence, or nil when valid.
    public static func firstInvalidOffset(_ bytes: ArraySlice<UInt8>) -> Int? {
        bytes.withUnsafeBytes { firstInvalidOffset($0) }
    }
}
