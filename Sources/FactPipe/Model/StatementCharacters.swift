import Foundation

/// The character rules a statement meets before the grammar reads it (DESIGN 1.3, docs/formats.md "The
/// grammar and the canonical statement"): one spelling for what a reader cannot tell apart.
///
/// - **NFC.** The text is put in Unicode Normalization Form C, so a precomposed `ä` and `a` with a
///   combining diaeresis are one letter. Only text with a scalar that NFC may change (a mark, a
///   conjoining Hangul jamo, a scalar excluded from composition) goes through `nfc(_:)`; other text is in
///   NFC already.
/// - **Unicode spaces** (general category Zs: no-break space, the en/em/thin spaces, ideographic
///   space, …) are read as a plain space `U+0020`, everywhere; the grammar then treats them as it
///   treats a space (insignificant between tokens, one space inside a bare argument).
/// - **Control characters** (category Cc) other than the whitespace the grammar allows (tab, line
///   feed, vertical tab, form feed, carriage return) are refused with `controlCharacter`: NUL, BEL,
///   ESC, DEL, the C1 controls U+0080–U+009F.
/// - **Invisible characters** (category Cf: zero-width space and joiners, direction marks and
///   embeddings, soft hyphen, word joiner, U+FEFF, tag characters; and the line and paragraph
///   separators U+2028, U+2029) are refused with `invisibleCharacter`, with one exception: a U+FEFF
///   byte order mark as the statement's first character (what a second file concatenated onto a
///   first one starts with) is read as whitespace.
///
/// Text made only of printable ASCII and ASCII whitespace takes none of these steps: one pass over its
/// bytes tells.
enum StatementCharacters {
    /// True when every byte is printable ASCII or ASCII whitespace, so the text needs no preparation.
    @inline(__always)
    static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // Without an early exit the loop vectorises: statements are short, and almost all are plain.
        var outside: UInt8 = 0
        for byte in bytes {
            let isHigh: UInt8 = byte >= 0x7F ? 1 : 0
            let isControl: UInt8 = byte < 0x20 && (byte < 0x09 || byte > 0x0D) ? 1 : 0
            outside |= isHigh | isControl
        }
        return outside == 0
    }

    /// `text` after the rules above, ready for the grammar; with `keepingRefused`, a control or invisible
    /// character is kept where it is (a restore of a fact an earlier release stored with one).
    /// - Throws: `StatementSyntaxError` of kind `controlCharacter` or `invisibleCharacter`, with the
    ///   column of the character that holds the offending scalar.
    static func prepared(_ text: String, keepingRefused: Bool = false) throws(StatementSyntaxError) -> String {
        // One look at each scalar first: most text with letters beyond ASCII (`Überblick`, `CO₂`) is
        // already NFC and has nothing to replace or refuse, and is returned as it is.
        var needsNFC = false
        var needsRewrite = false
        for scalar in text.unicodeScalars where scalar.value >= 0x7F || !isPlainASCII(scalar.value) {
            // Latin-1 letters and Latin Extended: no space, control or format character but U+00A0 and
            // U+00AD, and nothing NFC changes; no property lookup needed.
            if scalar.value > 0xA0 && scalar.value < 0x300 && scalar.value != 0xAD { continue }
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator:
                needsRewrite = true
            default:
                needsNFC = needsNFC || mayChangeUnderNFC(scalar)
            }
        }
        let normalized = needsNFC ? nfc(text) : text
        guard needsRewrite else { return normalized }
        var out = String.UnicodeScalarView()
        var seenContent = false
        for scalar in normalized.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                if !keepingRefused, value == 0x7F || (value < 0x20 && (value < 0x09 || value > 0x0D)) {
                    throw refusal(.controlCharacter, scalar, after: out)
                }
                seenContent = seenContent || value > 0x20
                out.append(scalar)
                continue
            }
            switch scalar.properties.generalCategory {
            case .control where !keepingRefused:
                throw refusal(.controlCharacter, scalar, after: out)
            case .format where value == 0xFEFF && !seenContent:
                out.append(" ")
            case .format, .lineSeparator, .paragraphSeparator:
                if !keepingRefused { throw refusal(.invisibleCharacter, scalar, after: out) }
                seenContent = true
                out.append(scalar)
            case .spaceSeparator:
                out.append(" ")
            default:
                seenContent = true
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// `text` in NFC. Foundation's `precomposedStringWithCanonicalMapping` misses two steps of the standard's
    /// algorithm: the marks of a decomposition that starts with a mark (U+0F73 gives U+0F71 U+0F72) are not put
    /// in canonical order with the marks after them, and a precomposed syllable of a leading consonant and a
    /// vowel followed by a trailing consonant (U+AC00 U+11A8) is not composed into one (U+AC01). Either kept
    /// two spellings of one statement as two facts, and an export imported again merged them into one. A
    /// second pass orders the marks (what the first decomposed, none recomposes); the syllables are composed
    /// here. The same as Python's `unicodedata` on 700,000 random strings of marks, jamo and letters.
    static func nfc(_ text: String) -> String {
        var normalized = text.precomposedStringWithCanonicalMapping
        for _ in 0..<2 {
            let again = normalized.precomposedStringWithCanonicalMapping
            // Scalars, not `==`, which holds canonically equivalent strings equal.
            if again.unicodeScalars.elementsEqual(normalized.unicodeScalars) { break }
            normalized = again
        }
        let trailingConsonants: ClosedRange<UInt32> = 0x11A8...0x11C2
        guard normalized.unicodeScalars.contains(where: { trailingConsonants.contains($0.value) }) else {
            return normalized
        }
        var out = String.UnicodeScalarView()
        for scalar in normalized.unicodeScalars {
            // A syllable without a trailing consonant is U+AC00 + 28 × n; the consonant adds its rank.
            if trailingConsonants.contains(scalar.value), let syllable = out.last,
                (0xAC00...0xD7A3).contains(syllable.value), (syllable.value - 0xAC00) % 28 == 0,
                let composed = Unicode.Scalar(syllable.value + scalar.value - 0x11A7)
            {
                out.removeLast()
                out.append(composed)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Printable ASCII or ASCII whitespace.
    @inline(__always)
    private static func isPlainASCII(_ value: UInt32) -> Bool {
        (value >= 0x20 && value < 0x7F) || (value >= 0x09 && value <= 0x0D)
    }

    /// False when text holding `scalar` is in NFC as far as `scalar` is concerned: below U+0300 every
    /// scalar is; beyond, a scalar that is no mark, no conjoining Hangul vowel or trailing consonant and
    /// not excluded from composition (Full_Composition_Exclusion: singletons such as U+212B ANGSTROM
    /// SIGN, non-starter decompositions) neither changes nor combines with the one before it.
    @inline(__always)
    private static func mayChangeUnderNFC(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        guard value >= 0x300 else { return false }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default:
            return properties.isFullCompositionExclusion || properties.canonicalCombiningClass.rawValue != 0
                || (0x1161...0x1175).contains(value) || (0x11A8...0x11C2).contains(value)
        }
    }

    /// `text` for a message: each control or invisible character written as `\u{…}`.
    static func printable(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator:
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// The error for `scalar`, found after the scalars in `prefix`.
    private static func refusal(
        _ kind: StatementSyntaxError.Kind, _ scalar: Unicode.Scalar, after prefix: String.UnicodeScalarView
    ) -> StatementSyntaxError {
        var through = prefix
        through.append(scalar)
        // The column of the character holding the scalar (a joiner belongs to the character before it).
        let column = max(String(through).count, 1)
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        let message =
            kind == .controlCharacter
            ? "Control character \(code) is not allowed in a statement; remove it."
            : "Invisible character \(code) is not allowed in a statement (two statements that differ only in it "
                + "could not be told apart); remove it."
        return StatementSyntaxError(kind: kind, column: column, message: message)
    }
}
