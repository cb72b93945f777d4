#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The rejects of an atomic load, kept in a file of their own until the load commits, then appended to
/// the rejects file (`publish`).
///
/// An atomic load writes its rejects as it reads (they may outgrow memory) but commits its facts only at
/// its end. Written straight into the rejects file, they stayed there when a `kill -9` stopped the load
/// before its commit, and its next run wrote them a second time. Spooled, they go with the process: the
/// spool is unlinked as soon as it is created (mode 0600, beside the rejects file or else in the
/// temporary folder) and read back through its descriptor, so nothing of it outlives the load. Only the
/// moment of the append, just before the commit, can still leave them in the rejects file.
final class RejectsSpool {
    /// Where the load writes its rejects until it commits.
    let output: BufferedFileOutput
    private let descriptor: Int32
    private let target: BufferedFileOutput
    private var isDiscarded = false

    /// A spool for `target`; nil when `target` is not a regular file of its own (standard output or
    /// error, a pipe, a device), which a load writes straight into, or when no spool can be created
    /// beside it or in the temporary folder (the load then writes straight into it, as before).
    init?(beside target: BufferedFileOutput) {
        guard target.ownsARegularFile else { return nil }
        let real = PathText.real(target.path) ?? target.path
        var opened: Int32 = -1
        for folder in [AtomicFileOutput.folder(of: real), Self.temporaryFolder()] {
            let path = TemporaryName.make(for: PathText.joined(folder, PathText.split(real).name))
            opened = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if opened >= 0 {
                unlink(path)
                break
            }
        }
        guard opened >= 0 else { return nil }
        descriptor = opened
        output = BufferedFileOutput(descriptor: opened, name: target.path)
        self.target = target
    }

    deinit {
        discard()
    }

    /// Appends every reject spooled so far to the rejects file, and flushes it: done just before the load
    /// commits (a rollback after it cuts them again, as the rejects of a rolled-back load). Each write
    /// ends at a line's end, so another process appending to the same file meanwhile never lands inside
    /// one of these lines.
    /// - Throws: `FileOutputError` when the spool cannot be read back or the rejects file written.
    func publish() throws {
        try output.flush()
        try target.flush()
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var carried: [UInt8] = []
        var offset: off_t = 0
        while true {
            let count = block.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw FileOutputError.fromErrno(.write, path: target.path) }
            if count == 0 { break }
            offset += off_t(count)
            carried.append(contentsOf: block[..<count])
            guard let end = carried.lastIndex(of: 0x0A) else { continue }
            try target.write(Array(carried[...end]))
            try target.flush()
            carried.removeFirst(end + 1)
        }
        if !carried.isEmpty {
            try target.write(carried)
            try target.flush()
        }
    }

    /// Closes the spool; what it held is gone with it.
    func discard() {
        guard !isDiscarded else { return }
        isDiscarded = true
        close(descriptor)
    }

    private static func temporaryFolder() -> String {
        let folder = getenv("TMPDIR").map { String(cString: $0) } ?? ""
        return folder.isEmpty ? "/tmp" : folder
    }
}
