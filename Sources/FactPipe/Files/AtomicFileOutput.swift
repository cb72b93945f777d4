import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where compressed or plain archive bytes go.
protocol ArchiveSink: AnyObject {
    /// Writes all of `bytes`.
    /// - Throws: `SnapshotError` when they cannot be written.
    func write(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError)
}

/// A file written under a temporary name in its own folder, then synced and renamed into place, so
/// that its path holds either the old file or the whole new one, never a part.
///
/// `-` writes to standard output, a path that names standard output or error (`/dev/stdout`, or the
/// file it was sent to) is written through that stream, and an existing path that is not a regular file
/// (a device such as `/dev/full`, a pipe) is written in place; none of them can have files beside it.
/// The SHA-256 of the bytes written is kept for the `FILE.sha256` file. Released without `commit`, the
/// temporary file is removed.
final class AtomicFileOutput: ArchiveSink {
    /// The final path, or `-`.
    let path: String
    /// The temporary file, or nil when the output is written in place.
    let temporaryPath: String?
    /// Bytes written so far.
    private(set) var bytesWritten: Int64 = 0
    private var descriptor: Int32
    private let digest: SHA256Digest?
    private var isCommitted = false
    private let mode: mode_t
    /// The owner and group given to the file and its sidecars (root writing for another user's database).
    private let owner: (user: uid_t, group: gid_t)?
    /// Leaves blocks of zeros as holes, as `zstd -d` and `cp` do (a database's free pages).
    private let isSparse: Bool
    /// True when the last block handed in was a hole: the file's size must be set at the end.
    private var endsInHole = false
    /// Asked while an output written in place waits for a pipe's reader (`CancellableOutput`).
    private let isCancelled: (() -> Bool)?
    /// True when the output is written in place to a pipe, FIFO or socket.
    private lazy var mayWait = temporaryPath == nil && CancellableOutput.mayWait(descriptor)
    /// True for a FIFO this output opened itself, left non-blocking (`CancellableOutput.open`).
    private var isNonBlocking = false
    /// Runs in `commit` once the file is in place, before its sidecars are: a test stops there, as a kill would.
    var afterOutputInPlace: (() throws(SnapshotError) -> Void)?

    /// Creates the temporary file beside `path` (or opens standard output or the device in place);
    /// `hashes` keeps the SHA-256 of what is written, `sparse` leaves 4 KiB blocks of zeros as holes,
    /// `mode` is the new file's permissions (and its sidecars').
    /// - Throws: `SnapshotError` `.io` when the folder does not exist or cannot be written.
    ///
    /// With `isCancelled`, a FIFO that no process reads yet, or a pipe whose reader stopped reading, is
    /// waited for in steps a signal can end (`CancellableOutput`): `SnapshotError` `.io` then says so.
    /// The permissions of a temporary file that holds a database's facts before it has its own: this user's alone.
    static let privateMode: mode_t = 0o600

    init(
        path: String, hashes: Bool = true, sparse: Bool = false, mode: mode_t = 0o644,
        owner: (user: uid_t, group: gid_t)? = nil, isCancelled: (() -> Bool)? = nil
    ) throws(SnapshotError) {
        self.mode = mode
        self.owner = owner
        self.path = path
        self.isCancelled = isCancelled
        digest = hashes ? SHA256Digest() : nil
        if path == "-" {
            guard !StandardStreams.outputWasClosed else {
                throw SnapshotError(.io, path: "standard output", "cannot write: standard output is closed")
            }
            isSparse = false
            descriptor = STDOUT_FILENO
            temporaryPath = nil
            return
        }
        if let closed = StandardStreams.closedStream(namedBy: path) {
            throw SnapshotError(.io, path: path, "cannot write: \(closed)")
        }
        if let stream = StandardStreams.descriptor(sameAs: path) {
            // `/dev/stdout`, or the file standard output or error goes to: written through the stream.
            isSparse = false
            descriptor = stream
            temporaryPath = nil
            return
        }
        if let problem = ForeignSymlink.problem(path) {
            throw SnapshotError(.io, path: path, "cannot write: \(problem)")
        }
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            guard (info.st_mode & S_IFMT) != S_IFDIR else {
                throw SnapshotError(.io, path: path, "cannot write: is a directory")
            }
            let opened: (descriptor: Int32, isNonBlocking: Bool)?
            if let isCancelled {
                opened = CancellableOutput.open(path, flags: O_WRONLY | O_CLOEXEC, mode: 0, isCancelled: isCancelled)
            } else {
                let fd = open(path, O_WRONLY | O_CLOEXEC)
                opened = fd >= 0 ? (fd, false) : nil
            }
            guard let (fd, nonBlocking) = opened else {
                let reason = errno == EINTR && isCancelled != nil ? CancellableOutput.stoppedWaiting : systemError()
                throw SnapshotError(.io, path: path, "cannot open for writing: \(reason)")
            }
            isNonBlocking = nonBlocking
            isSparse = false
            descriptor = fd
            temporaryPath = nil
            return
        }
        // What a killed command left in this folder goes first: it may be the space this one needs.
        StaleTemporaries.sweep(besides: path)
        let temporary = Self.temporaryName(for: path)
        let fd = TemporaryFiles.create(temporary) { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode) }
        guard fd >= 0 else {
            throw SnapshotError(.io, path: path, "cannot create a file in \(Self.folder(of: path)): \(systemError())")
        }
        // The mode is set whatever the process's umask, so a backup is no more readable than its database.
        _ = fchmod(fd, mode)
        if let owner { _ = fchown(fd, owner.user, owner.group) }
        isSparse = sparse
        descriptor = fd
        temporaryPath = temporary
    }

    deinit {
        abandon()
    }

    /// True when files may be written beside the output (`FILE.sha256`, `FILE.manifest.json`).
    var canHaveSidecars: Bool { temporaryPath != nil }

    /// Writes all of `bytes`.
    /// - Throws: `SnapshotError` `.io` with the system's reason (e.g. no space left on device).
    func write(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        digest?.update(bytes)
        guard isSparse else {
            try writeAll(base, bytes.count)
            return
        }
        // Runs of data are written at their offsets; 4 KiB blocks of zeros (aligned to the file)
        // are left as holes.
        endsInHole = try SparseFileWriter(descriptor: descriptor, name: path).write(bytes, at: bytesWritten)
        bytesWritten += Int64(bytes.count)
    }

    /// A writer of this file at any offset, from several threads at once, for a sparse output in a
    /// temporary file (nil otherwise); `finishWriting(size:syncing:)` then ends the file.
    var positionedWriter: SparseFileWriter? {
        guard isSparse, temporaryPath != nil, descriptor >= 0 else { return nil }
        return SparseFileWriter(descriptor: descriptor, name: path)
    }

    /// Ends a file written through `positionedWriter`: sets its size to `size` (its last bytes may be
    /// holes), then syncs it unless `syncing` is false, and closes it.
    /// - Throws: `SnapshotError` `.io` as `finishWriting(syncing:)` does.
    func finishWriting(size: Int64, syncing: Bool) throws(SnapshotError) {
        bytesWritten = size
        endsInHole = true
        _ = try finishWriting(syncing: syncing)
    }

    /// `write(2)` until every byte is written.
    private func writeAll(_ base: UnsafeRawPointer, _ count: Int) throws(SnapshotError) {
        try withSIGPIPEHeldBack { () throws(SnapshotError) in
            var done = 0
            while done < count {
                let written: Int
                if let isCancelled, mayWait {
                    // A pipe's reader may have stopped reading: wait for room where a signal can end it.
                    written = CancellableOutput.writeSome(
                        descriptor, base + done, count - done, isNonBlocking: isNonBlocking, isCancelled: isCancelled)
                    if written < 0 && errno == EINTR {
                        let name = path == "-" ? "standard output" : path
                        throw SnapshotError(.io, path: name, "cannot write: \(CancellableOutput.stoppedWaiting)")
                    }
                } else {
                    written = writeBytes(descriptor, base + done, count - done)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw SnapshotError(.io, path: path == "-" ? "standard output" : path, "cannot write: \(systemError())")
                }
                done += written
                bytesWritten += Int64(written)
            }
        }
    }

    /// Writes all of `bytes`.
    /// - Throws: `SnapshotError` `.io` as `write(_:)` does.
    func write(_ bytes: [UInt8]) throws(SnapshotError) {
        try bytes.withRawBytes { raw throws(SnapshotError) in try write(raw) }
    }

    /// Syncs the file to disk (unless `syncing` is false: the caller then syncs it, e.g. with
    /// `syncFile` in a `BackgroundResult`) and closes it; returns the SHA-256 of its bytes (empty when not hashed).
    /// - Throws: `SnapshotError` `.io` when syncing or closing fails (a full disk can show only here).
    func finishWriting(syncing: Bool = true) throws(SnapshotError) -> String {
        if isSparse && endsInHole && ftruncate(descriptor, off_t(bytesWritten)) != 0 {
            throw SnapshotError(.io, path: path, "cannot set the file's size: \(systemError())")
        }
        if temporaryPath != nil {
            guard !syncing || fsync(descriptor) == 0 else {
                throw SnapshotError(.io, path: path, "cannot sync: \(systemError())")
            }
            let fd = descriptor
            descriptor = -1
            guard close(fd) == 0 else { throw SnapshotError(.io, path: path, "cannot close: \(systemError())") }
        }
        return digest?.finish() ?? ""
    }

    /// Writes each sidecar (`path + suffix`) under a temporary name and syncs it, then renames the
    /// output and the sidecars into place and syncs the folder. Call after `finishWriting()`.
    /// Without `replacing`, a file made at `path` meanwhile is left as it is (`.targetExists`), and the
    /// output may be committed again under another name of the same folder (`name`, for a file).
    /// - Throws: `SnapshotError` `.io`; before the first rename, nothing is left behind.
    func commit(
        sidecars: [(suffix: String, bytes: [UInt8])] = [], replacing: Bool = true, as name: String? = nil
    ) throws(SnapshotError) {
        let path = temporaryPath == nil ? self.path : name ?? self.path
        guard let temporaryPath else {
            isCommitted = true
            return
        }
        var written: [(temporary: String, final: String)] = []
        do throws(SnapshotError) {
            for sidecar in sidecars {
                let final = path + sidecar.suffix
                let temporary = Self.temporaryName(for: final)
                written.append((temporary, final))
                try Self.writeSynced(sidecar.bytes, to: temporary, reportedAs: final, mode: mode, owner: owner)
            }
        } catch {
            for file in written { Self.remove(file.temporary) }
            throw error
        }
        // A folder where a file beside it goes would fail its rename after the file itself had replaced
        // the old one: the export would fail with the old archive gone and its temporaries left.
        for file in written {
            var info = stat()
            if stat(file.final, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                for file in written { Self.remove(file.temporary) }
                throw SnapshotError(.io, path: file.final, "cannot write: is a directory (nothing was replaced)")
            }
        }
        // The file and the files beside it as one against an interrupt, which then lets the command end.
        try TemporaryFiles.puttingInPlace { () throws(SnapshotError) in
            // The old file's sidecars go first: a process killed between the file's rename and theirs left the
            // new file beside the old checksum and manifest, and `verify` and `restore` refused a sound archive.
            // Without them it is checked by what it holds. They are moved aside, not removed, until the new file
            // is in place: a rename that failed (an old archive or sidecar made immutable, a folder that went
            // read-only) left the old archive without them, or the new one beside an old manifest, and the
            // export said it failed. A kill meanwhile leaves them for `SidecarRollForward`.
            var aside = SetAside()
            if replacing {
                do throws(SnapshotError) {
                    for file in written { try aside.move(file.final, what: "the old file") }
                } catch {
                    for file in written { Self.remove(file.temporary) }
                    throw error
                }
            }
            guard Self.move(temporaryPath, to: path, replacing: replacing) == 0 else {
                let code = errno
                let reason = systemError()
                aside.putBack()
                for file in written { Self.remove(file.temporary) }
                if code == EEXIST && !replacing {
                    throw SnapshotError(.targetExists, path: path, "was created while this ran; it is left as it is")
                }
                throw SnapshotError(.io, path: path, "cannot rename the finished file into place: \(reason)")
            }
            isCommitted = true
            TemporaryFiles.forget(temporaryPath)
            try afterOutputInPlace?()
            for (index, file) in written.enumerated() {
                guard rename(file.temporary, file.final) == 0 else {
                    let reason = systemError()
                    for rest in written[index...] { Self.remove(rest.temporary) }
                    // The new file is in place: the old one's sidecars describe nothing here any more.
                    aside.discard()
                    throw SnapshotError(.io, path: file.final, "cannot rename into place: \(reason)")
                }
                TemporaryFiles.forget(file.temporary)
            }
            aside.discard()
        }
        try Self.syncFolder(of: path)
    }

    /// Closes and removes the temporary file, unless the output was committed.
    func abandon() {
        if descriptor > STDERR_FILENO { close(descriptor) }
        descriptor = -1
        if !isCommitted, let temporaryPath { Self.remove(temporaryPath) }
        isCommitted = true
    }
}
