import Testing
@testable import FactPipe

@Test func acceptsASCIIAndEveryEncodingLength() {
    #expect(UTF8Validation.isValid([UInt8]()))
    #expect(UTF8Validation.isValid(Array("plain ascii text that is longer than eight bytes".utf8)))
    #expect(UTF8Validation.isValid(Array("é ü ß".utf8)))  // 2 bytes
    #expect(UTF8Validation.isValid(Array("€ 中文 \u{FFFD} \u{D7FF} \u{E000}".utf8)))  // 3 bytes
    #expect(UTF8Validation.isValid(Array("😀 \u{10000} \u{10FFFF}".utf8)))  // 4 bytes
    let mixed = Array(String(repeating: "abcdefgh", count: 9).utf8) + Array("ü".utf8) + Array("tail12345".utf8)
    #expect(UTF8Validation.isValid(mixed))
}

@Test(arguments: [
    ([0x80] as [UInt8], 0),  // lone continuation byte
    ([0x41, 0xBF], 1),  // continuation after ASCII
    ([0xC0, 0xAF], 0),  // overlong '/'
    ([0xC1, 0xBF], 0),  // overlong 2-byte
    ([0xE0, 0x80, 0xAF], 0),  // overlong 3-byte
    ([0xF0, 0x80, 0x80, 0xAF], 0),  // overlong 4-byte
    ([0xED, 0xA0, 0x80], 0),  // surrogate U+D800
    ([0xED, 0xBF, 0xBF], 0),  // surrogate U+DFFF
    ([0xF4, 0x90, 0x80, 0x80], 0),  // U+110000
    ([0xF5, 0x80, 0x80, 0x80], 0),  // lead byte beyond F4
    ([0xFF], 0),
    ([0x61, 0x62, 0xC3], 2),  // truncated 2-byte at the end
    ([0xE2, 0x82], 0),  // truncated 3-byte
    ([0xE2, 0x28, 0xA1], 0),  // bad second byte
    ([0xF0, 0x9F, 0x98, 0x41], 0),  // bad fourth byte
])
func rejectsIllFormedSequences(bytes: [UInt8], firstBad: Int) {
    #expect(!UTF8Validation.isValid(bytes))
    #expect(UTF8Validation.firstInvalidOffset(bytes[...]) == firstBad)
}

@Test func findsInvalidByteAfterLongASCIIRun() {
    var bytes = Array(String(repeating: "x", count: 37).utf8)
    bytes.append(0xC3)
    bytes.append(0x28)
    bytes += Array("more ascii after".utf8)
    #expect(UTF8Validation.firstInvalidOffset(bytes[...]) == 37)
    // The slice API counts from the slice's start.
    #expect(UTF8Validation.firstInvalidOffset(bytes[30...]) == 7)
    #expect(UTF8Validation.isValid(bytes[0..<37]))
    #expect(!UTF8Validation.isValid(bytes[30...]))
}
