#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes bytes at given offsets of an open file (`pwrite(2)`), leaving 4 KiB blocks of zeros,
/// aligned to the file, as holes, as `zstd -d` and `cp` do (a database's free pages).
///
/// It holds no state but the descriptor, so several threads may write different ranges of the same
/// file at once. It neither opens nor closes the file: its owner keeps it open meanwhile and sets
/// the file's size at the end (a file that ends in a hole is shorter until then).
struct SparseFileWriter: Sendable {
    /// The open file.
    let descriptor: Int32
    /// The file's name for messages.
    let name: String

    /// Blocks of zeros left as holes.
    static let blockBytes = 4096

    /// Writes `bytes` at `offset`, but for their blocks of zeros; returns true when their last block
    /// was left as a hole.
    /// - Throws: `SnapshotError` `.io` with the system's reason (e.g. no space left on device).
    @discardableResult
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(SnapshotError) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        var index = 0
        var runStart = 0
        var endsInHole = false
        while index < bytes.count {
            let position = offset + Int64(index)
            let blockEnd = min(bytes.count, index + Self.blockBytes - Int(position % Int64(Self.blockBytes)))
            if Self.isZero(base + index, blockEnd - index) {
                if index > runStart { try writeAll(base + runStart, index - runStart, at: offset + Int64(runStart)) }
                runStart = blockEnd
                endsInHole = true
            }
            index = blockEnd
        }
        if runStart < bytes.count {
            try writeAll(base + runStart, bytes.count - runStart, at: offset + Int64(runStart))
            endsInHole = false
        }
        return endsInHole
    }

    /// `pwrite(2)` until every byte is written.
    private func writeAll(_ base: UnsafeRawPointer, _ count: Int, at offset: Int64) throws(SnapshotError) {
        var done = 0
        while done < count {
            let written = pwrite(descriptor, base + done, count - done, off_t(offset) + off_t(done))
            if written < 0 {
                if errno == EINTR { continue }
                throw SnapshotError(.io, path: name, "cannot write: \(systemError())")
            }
            done += written
        }
    }

    /// True when the `count` bytes at `base` are all zero; stops at the first 64 bytes that are not
    /// (data blocks rarely start with 64 zero bytes, so they cost a few loads).
    private static func isZero(_ base: UnsafeRawPointer, _ count: Int) -> Bool {
        var index = 0
        while index + 64 <= count {
            var bits: UInt64 = 0
            for word in 0..<8 { bits |= base.loadUnaligned(fromByteOffset: index + 8 * word, as: UInt64.self) }
            if bits != 0 { return false }
            index += 64
        }
        while index < count {
            if base.load(fromByteOffset: index, as: UInt8.self) != 0 { return false }
            index += 1
        }
        return true
    }
}
