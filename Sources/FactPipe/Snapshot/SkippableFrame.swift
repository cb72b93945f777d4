/// The manifest's place inside a compressed archive: a zstd skippable frame at the end of the file.
///
/// ```
/// offset from the frame's start   bytes     field
/// 0                               4         magic 0x184D2A5E, little-endian: a skippable frame, which
///                                           zstd -d and ZSTD_decompressStream pass over
/// 4                               4         N, the number of bytes that follow, little-endian
/// 8                               N - 72    the manifest: one JSON object, UTF-8
/// N - 64                          64        SHA-256 of the manifest's JSON, lowercase hex
/// N + 0                           4         "FPM1"
/// N + 4                           4         N again, little-endian
/// ```
/// The last eight bytes of the file find the frame without reading the rest, and the hash tells a
/// damaged manifest from a good one.
enum SkippableFrame {
    /// The skippable-frame magic number factpipe uses (one of 0x184D2A50...0x184D2A5F).
    static let magic: UInt32 = 0x184D_2A5E
    /// Marks the end of a factpipe manifest frame.
    static let tag: [UInt8] = Array("FPM1".utf8)
    /// Bytes of the frame that are not the manifest's JSON.
    static let overhead = 8 + 64 + 8
    /// The most JSON a manifest frame may hold, as for a `FILE.manifest.json` beside a plain snapshot: a
    /// manifest is under a few KiB, and the frame's size is read from the file's last bytes, which anyone
    /// may write (a file claiming a 1.5 GB manifest made `verify` allocate and read 1.5 GB).
    static let maxManifestBytes = 1 << 20

    /// True for the first four bytes of any skippable frame.
    static func isSkippableMagic(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] & 0xF0 == 0x50 && bytes[1] == 0x2A && bytes[2] == 0x4D && bytes[3] == 0x18
    }

    /// True for the first four bytes of a zstd frame.
    static func isZstdMagic(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x28 && bytes[1] == 0xB5 && bytes[2] == 0x2F && bytes[3] == 0xFD
    }

    /// The frame holding `manifestJSON`.
    static func encode(manifestJSON: String) -> [UInt8] {
        let json = Array(manifestJSON.utf8)
        let digest = SHA256Digest()
        json.withUnsafeBytes { digest.update($0) }
        let hash = Array((digest.finish() ?? String(repeating: "0", count: 64)).utf8)
        let size = UInt32(json.count + 64 + 8)
        var frame: [UInt8] = []
        frame.reserveCapacity(json.count + overhead)
        appendLittleEndian(magic, to: &frame)
        appendLittleEndian(size, to: &frame)
        frame += json
        frame += hash
        frame += tag
        appendLittleEndian(size, to: &frame)
        return frame
    }

    /// What the end of a file says about its manifest.
    enum Lookup {
        /// A manifest frame starting at `offset`, its JSON intact.
        case found(json: String, offset: Int64)
        /// The file does not end with a factpipe manifest frame.
        case absent
        /// The file ends like a manifest frame, but the frame is damaged (the reason says how).
        case damaged(String)
    }

    /// Finds the manifest frame at the end of `input`; one that claims more than `maxManifestBytes` of
    /// manifest is damaged, and not read.
    /// - Throws: `SnapshotError` `.io` when the file cannot be read.
    static func locate(in input: ArchiveInput) throws(SnapshotError) -> Lookup {
        let size = input.size
        guard size >= Int64(overhead) else { return .absent }
        // A read comes back short when the file shrank since its size was taken (another program cut it).
        let tail = try input.read(at: size - 8, count: 8)
        guard tail.count == 8 else { return .damaged("the file ended before its last 8 bytes (it is being cut)") }
        guard Array(tail[0..<4]) == tag else { return .absent }
        let payload = Int64(littleEndian(tail, at: 4))
        guard payload >= 72, payload + 8 <= size else {
            return .damaged("the manifest frame claims \(payload) bytes in a file of \(size)")
        }
        guard payload - 72 <= Int64(maxManifestBytes) else {
            return .damaged(
                "the manifest frame claims \(payload - 72) bytes of manifest, more than the \(maxManifestBytes) "
                    + "a manifest may have (it was not read)")
        }
        let offset = size - 8 - payload
        let header = try input.read(at: offset, count: 8)
        guard header.count == 8, littleEndian(header, at: 0) == magic, Int64(littleEndian(header, at: 4)) == payload else {
            return .damaged("the manifest frame's header at byte \(offset) is damaged")
        }
        let body = try input.read(at: offset + 8, count: Int(payload) - 8)
        guard body.count == Int(payload) - 8 else { return .damaged("the file ended inside its manifest frame") }
        let json = Array(body[0..<(body.count - 64)])
        let stored = String(decoding: body[(body.count - 64)...], as: UTF8.self)
        let digest = SHA256Digest()
        json.withUnsafeBytes { digest.update($0) }
        guard digest.finish() == stored else {
            return .damaged("the manifest's bytes do not match the SHA-256 stored beside them")
        }
        return .found(json: String(decoding: json, as: UTF8.self), offset: offset)
    }

    private static func appendLittleEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private static func littleEndian(_ bytes: [UInt8], at index: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[index + $1]) << UInt32(8 * $1) }
    }
}
