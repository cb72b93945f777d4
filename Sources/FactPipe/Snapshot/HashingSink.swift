/// Passes bytes on to another sink, keeping their SHA-256 and count: the compressed frames of an
/// archive, before the manifest frame is added.
final class HashingSink: ArchiveSink {
    private let next: any ArchiveSink
    private let digest = SHA256Digest()
    /// Bytes passed on so far.
    private(set) var bytes: Int64 = 0

    /// Hashes what goes to `next`.
    init(_ next: any ArchiveSink) {
        self.next = next
    }

    /// Hashes `bytes` and writes them to the next sink.
    /// - Throws: the next sink's `SnapshotError`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError) {
        digest.update(bytes)
        self.bytes += Int64(bytes.count)
        try next.write(bytes)
    }

    /// The SHA-256 of everything written, as 64 hex digits; ends the digest.
    func finish() -> String {
        digest.finish() ?? ""
    }
}
