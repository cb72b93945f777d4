#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An archive opened for checking or restoring: what kind of file it is, its manifest (or why
/// there is none), and one streaming pass over its content.
///
/// A compressed archive is recognised by its zstd magic; its manifest is the skippable frame at
/// its end (`SkippableFrame`), and the content is every frame before it, decoded. A plain snapshot
/// is the content itself, with its manifest in `FILE.manifest.json` beside it.
final class ArchiveReader {
    /// The archive's path.
    let path: String
    /// True for zstd data.
    let isCompressed: Bool
    /// The manifest, or the problem that keeps it from being read.
    let manifest: Result<SnapshotManifest, SnapshotError>
    private let input: ArchiveInput
    /// Bytes handed out per piece of content.
    static let pieceBytes = 1 << 20

    /// Opens `path` and reads its manifest; `hashesFile` keeps the SHA-256 of the whole file.
    /// - Throws: `SnapshotError` `.io` when the file cannot be opened or read.
    init(path: String, hashesFile: Bool = true) throws(SnapshotError) {
        self.path = path
        input = try ArchiveInput(path: path, hashesFile: hashesFile, hashesStream: true)
        let head = try input.read(at: 0, count: 16)
        isCompressed = SkippableFrame.isZstdMagic(head) || SkippableFrame.isSkippableMagic(head)
        if isCompressed {
            switch try SkippableFrame.locate(in: input) {
            case .found(let json, let offset):
                input.limit = offset
                do {
                    manifest = .success(try SnapshotManifest.decode(json, path: path))
                } catch {
                    manifest = .failure(error)
                }
            case .absent:
                manifest = .failure(
                    SnapshotError(
                        .missingManifest, path: path,
                        "missing manifest: the file does not end with a factpipe manifest frame (it was not written by "
                            + "factpipe, or its end was cut off or damaged)"))
            case .damaged(let reason):
                manifest = .failure(SnapshotError(.manifestDamaged, path: path, "manifest damaged: \(reason)"))
            }
            return
        }
        manifest = Self.readManifestBeside(path, head: head)
    }

    /// The manifest of a plain snapshot, from `FILE.manifest.json`.
    private static func readManifestBeside(_ path: String, head: [UInt8]) -> Result<SnapshotManifest, SnapshotError> {
        let besidePath = path + ".manifest.json"
        let beside: String?
        do {
            beside = try readSmallFile(besidePath, tooLarge: .manifestDamaged, what: "manifest")
        } catch {
            return .failure(error)
        }
        guard let text = beside else {
            if head.starts(with: Array("SQLite format 3".utf8)) {
                return .failure(
                    SnapshotError(
                        .notAnArchive, path: path,
                        "not a factpipe archive: this is a SQLite database file (backups are .db.zst files)"))
            }
            let looksLikeSnapshot = head.first == UInt8(ascii: "{") || head.starts(with: Array("statement,".utf8))
            if looksLikeSnapshot {
                return .failure(
                    SnapshotError(
                        .missingManifest, path: path, "missing manifest: no \(besidePath) beside this plain snapshot"))
            }
            return .failure(
                SnapshotError(
                    .notAnArchive, path: path,
                    "not a factpipe archive: neither zstd data nor a snapshot with its manifest beside it"))
        }
        do {
            return .success(try SnapshotManifest.decode(text, path: besidePath))
        } catch {
            return .failure(error)
        }
    }

    /// What a pass over the content found.
    struct Content {
        /// Bytes of content.
        var bytes: Int64
        /// Their SHA-256 (empty when not computed).
        var sha256: String
        /// SHA-256 of the compressed frames read (nil for a plain snapshot).
        var compressedSHA256: String?
    }

    /// Reads the content to its end, decoding it if compressed, and hands each piece to `body`;
    /// `hashing` computes the content's SHA-256 (the compressed frames' is always computed).
    ///
    /// `limit` is the size the manifest gives the content: decoding stops as soon as the content runs
    /// past it. A backup of 295 KB whose manifest said 1 MiB decoded to 3 GB, written into `TMPDIR` by
    /// `verify` and beside the target by `restore`, before its size was found to differ.
    /// - Throws: `SnapshotError` `.sizeMismatch` when the content runs past `limit`, `.truncated` when
    ///   the file ends inside a frame, `.corruptFrame` when a frame is damaged (a checksum included),
    ///   `.io` when a read fails, or what `body` throws.
    func readContent(
        hashing: Bool = true, limit: Int64? = nil, _ body: (UnsafeRawBufferPointer) throws(SnapshotError) -> Void
    ) throws(SnapshotError) -> Content {
        let source: any ByteSource
        do {
            source = isCompressed ? try ZstdByteSource(upstream: input) : input
        } catch {
            throw SnapshotError(error)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.pieceBytes, alignment: 16)
        defer { buffer.deallocate() }
        let digest = hashing ? SHA256Digest() : nil
        var total: Int64 = 0
        while true {
            let count: Int
            do {
                count = try source.read(into: buffer)
            } catch {
                var failure = SnapshotError(error)
                failure.path = path
                if failure.kind == .truncated {
                    failure.message = "truncated: the file ends inside a compressed frame after \(total) decoded bytes"
                } else if failure.kind == .corruptFrame {
                    failure.message = "corrupted frame: \(error.message)"
                }
                throw failure
            }
            if count == 0 { break }
            if let limit, total + Int64(count) > limit {
                throw SnapshotError(
                    .sizeMismatch, path: path,
                    "size differs: the content runs past the \(limit) bytes the manifest says (decoding stopped there)")
            }
            let piece = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            digest?.update(piece)
            total += Int64(count)
            try body(piece)
        }
        return Content(
            bytes: total, sha256: digest?.finish() ?? "",
            compressedSHA256: isCompressed ? input.finishStreamHash() : nil)
    }

    /// Where the content's frames lie (nil for a plain snapshot, or when a frame does not record its
    /// content size: the content must then be decoded in order, by `readContent`).
    /// - Throws: `SnapshotError` `.truncated`, `.corruptFrame` or `.io`, as `ZstdFrameLayout.scan` does.
    func frameLayout() throws(SnapshotError) -> ZstdFrameLayout? {
        guard isCompressed else { return nil }
        return try ZstdFrameLayout.scan(input, end: input.limit)
    }

    /// What the headers of the content's frames say: how many there are and the content sizes they
    /// record (nil for a plain snapshot). Reads their headers alone, never decodes.
    /// - Throws: `SnapshotError` `.truncated`, `.corruptFrame` or `.io`, as `ZstdFrameLayout.census` does.
    func frameCensus() throws(SnapshotError) -> ZstdFrameLayout.Census? {
        guard isCompressed else { return nil }
        return try ZstdFrameLayout.census(input, end: input.limit)
    }

    /// The open archive, for reads at given offsets from other threads (`pread`) while it is open.
    var descriptor: Int32 { input.descriptor }

    /// Reads the compressed frames without decoding them (their bytes were decoded elsewhere, from
    /// `frameLayout()`) and returns their SHA-256, to be compared with the manifest's
    /// `compressed_sha256`; the file's SHA-256 is then ready for `fileSHA256()`.
    /// - Throws: `SnapshotError` `.io` when a read fails.
    func hashCompressedFrames() throws(SnapshotError) -> String? {
        guard isCompressed else { return nil }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.pieceBytes, alignment: 16)
        defer { buffer.deallocate() }
        do {
            while try input.read(into: buffer) > 0 {}
        } catch {
            throw SnapshotError(error)
        }
        return input.finishStreamHash()
    }

    /// The SHA-256 of the whole file; call after `readContent`.
    /// - Throws: `SnapshotError` `.io` when a read fails.
    func fileSHA256() throws(SnapshotError) -> String? {
        try input.finishFileHash()
    }

    /// The hash recorded in `FILE.sha256` beside the archive, when there is one ("" when it holds none).
    /// - Throws: `SnapshotError` `.io` when it is there but cannot be read (or is not a regular file);
    ///   `.fileHashMismatch` when it is larger than a checksum file may be (`readSmallFile`), or is the
    ///   checksum of a file of another name.
    func recordedFileSHA256() throws(SnapshotError) -> String? {
        let checksumFile = path + ".sha256"
        guard let text = try Self.readSmallFile(checksumFile, tooLarge: .fileHashMismatch, what: "checksum file")
        else { return nil }
        // One line for one file: a second line (another checksum, appended or edited in) went unread, and
        // `verify` passed a file `sha256sum -c` fails.
        let lines = text.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }
        guard lines.count == 1, let line = lines.first else { return "" }
        // A leading backslash marks a line whose file name is escaped (GNU coreutils' format).
        let isEscaped = line.first == "\\"
        let entry = line.dropFirst(isEscaped ? 1 : 0)
        let hex = entry.prefix { $0.isHexDigit }
        guard hex.count == 64 else { return "" }
        // The name after the hash (`HASH  NAME`, or `HASH *NAME` in binary mode) is the file it is the
        // checksum of, as `sha256sum -c` reads it: the checksum of another file was taken for this one's.
        let rest = entry.dropFirst(64)
        guard !rest.isEmpty else { return hex.lowercased() }
        guard rest.first == " ", let mode = rest.dropFirst().first, mode == " " || mode == "*" else { return "" }
        let name = isEscaped ? Self.unescaped(rest.dropFirst(2)) : String(rest.dropFirst(2))
        let own = PathText.split(path).name
        guard name == own || name.hasSuffix("/" + own) else {
            throw SnapshotError(
                .fileHashMismatch, path: path, "\(checksumFile) is the checksum of \(name), not of this file")
        }
        return hex.lowercased()
    }

    /// A file name as GNU coreutils escapes it in a checksum line (`\\`, `\n`, `\r`), unescaped.
    private static func unescaped(_ name: Substring) -> String {
        var result = ""
        var isAfterBackslash = false
        for character in name {
            if isAfterBackslash {
                result.append(character == "n" ? "\n" : character == "r" ? "\r" : character)
                isAfterBackslash = false
            } else if character == "\\" {
                isAfterBackslash = true
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// The text of a small file (a sidecar, `what`), or nil when it does not exist.
    /// - Throws: `SnapshotError` `.io` when it exists but cannot be read, or is not a regular file (a
    ///   named pipe is refused, never waited on); `tooLarge` when it is larger than `limit`, unread. Taken
    ///   for absent, a checksum file of more than 1 MiB with a wrong hash let `verify` say the checksums
    ///   matched, and a manifest of more than 1 MiB was called missing.
    static func readSmallFile(
        _ path: String, limit: Int = 1 << 20, tooLarge: SnapshotError.Kind = .io, what: String = "file"
    ) throws(SnapshotError) -> String? {
        var info = stat()
        if stat(path, &info) != 0 && errno == ENOENT { return nil }
        let input = try ArchiveInput(path: path)
        guard input.size <= Int64(limit) else {
            throw SnapshotError(
                tooLarge, path: path,
                "\(tooLarge == .manifestDamaged ? "manifest damaged: " : "")the \(what) is \(input.size) bytes, more "
                    + "than the \(limit) one may have; it was not read")
        }
        return String(decoding: try input.read(at: 0, count: Int(input.size)), as: UTF8.self)
    }
}
