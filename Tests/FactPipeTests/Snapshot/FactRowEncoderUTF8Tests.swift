import Foundation
import Testing

@testable import FactPipe

/// The export's UTF-8 check (`FactRowEncoder.isUTF8`), which passes ASCII by words and reads the last
/// bytes of a column as one word overlapping those already passed: it must agree with Swift's own decoder
/// wherever a bad byte sits.
@Suite struct FactRowEncoderUTF8Tests {
    private func check(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { FactRowEncoder.isUTF8($0) }
    }

    private func swiftSays(_ bytes: [UInt8]) -> Bool {
        String(validating: bytes, as: UTF8.self) != nil
    }

    @Test func badSequencesAreRefusedWhereverTheyStand() {
        let bad: [[UInt8]] = [
            [0x80], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80], [0xED, 0xA0, 0x80],
            [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF], [0xC3, 0x22], [0xF8, 0x88, 0x80, 0x80, 0x80],
        ]
        let good: [[UInt8]] = [[0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xED, 0x9F, 0xBF], [0x7F]]
        for length in [0, 1, 7, 8, 9, 15, 31, 32, 33, 40, 70] {
            let ascii = [UInt8](repeating: 0x61, count: length)
            for sequence in bad {
                for bytes in [sequence + ascii, ascii + sequence, ascii + sequence + ascii] {
                    #expect(!check(bytes), "\(bytes)")
                }
            }
            for sequence in good {
                for bytes in [sequence + ascii, ascii + sequence, ascii + sequence + ascii] {
                    #expect(check(bytes), "\(bytes)")
                }
            }
        }
    }

    @Test func itAgreesWithSwiftsDecoderOnRandomText() {
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [
            Array("abc".utf8), Array("é".utf8), Array("₂".utf8), Array("😀".utf8), [0x80], [0xC3], [0xED, 0xA0, 0x80],
            [0xE2, 0x82], [0x20], Array("Straße(".utf8),
        ]
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...24, using: &generator) {
                bytes += pieces.randomElement(using: &generator) ?? []
            }
            #expect(check(bytes) == swiftSays(bytes), "\(bytes)")
        }
    }
}

/// The export's check of `created_at` skips the date of a time on the same day as the last valid one,
/// and must still refuse a bad clock on that day, and a bad date on the next.
@Suite struct TimestampKnownDateTests {
    private func normalized(_ text: String, _ known: inout Timestamp.KnownDate) -> Bool {
        Array(text.utf8).withUnsafeBufferPointer { Timestamp.isNormalized($0, knownDate: &known) }
    }

    @Test func aKnownDayStillHasItsClockAndFormChecked() {
        var known = Timestamp.KnownDate()
        #expect(normalized("2025-01-01T00:00:21Z", &known))
        #expect(normalized("2025-01-01T23:59:59.5Z", &known))
        for bad in [
            "2025-01-01T24:00:00Z", "2025-01-01T00:60:00Z", "2025-01-01T00:00:60Z", "2025-01-01X00:00:00Z",
            "2025-01-01T00:00:00", "2025-01-01T00:00:00.Z", "2025-01-01T00:00:00.1aZ", "2025-01-01T0a:00:00Z",
        ] {
            #expect(!normalized(bad, &known), "\(bad)")
        }
        #expect(!normalized("2025-02-30T00:00:00Z", &known))
        #expect(!normalized("2025-13-01T00:00:00Z", &known))
        #expect(normalized("2024-02-29T00:00:00Z", &known))
        #expect(!normalized("2023-02-29T00:00:00Z", &known))
    }
}
