import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Temporary names, permissions and syncs: the file-system steps of writing a file atomically.
extension AtomicFileOutput {
    /// A hidden name beside `path`, unique to this process and call, that names its owner
    /// (`TemporaryName`), so that a later command can remove it when its owner was killed.
    static func temporaryName(for path: String) -> String {
        TemporaryName.make(for: path)
    }

    /// The folder holding `path` (`.` for a bare name).
    static func folder(of path: String) -> String {
        PathText.split(path).folder
    }

    /// The permission bits of the file at `path`, or nil when there is none.
    static func permissions(of path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }

    /// True when `a` and `b` name the same existing file.
    static func isSameFile(_ a: String, _ b: String) -> Bool {
        var x = stat()
        var y = stat()
        return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }

    /// Renames `from` to `to`; without `replacing`, fails with `EEXIST` when something is at `to`, as one
    /// step (a hard link, then the old name removed), where a check and a `rename` left a gap for another
    /// program to make the file that the rename then replaced. A file system without hard links (`EPERM`,
    /// `ENOTSUP`) gets the `rename` after one more check.
    static func move(_ from: String, to: String, replacing: Bool) -> Int32 {
        guard !replacing else { return rename(from, to) }
        if link(from, to) == 0 {
            unlink(from)
            return 0
        }
        let code = errno
        guard code == EPERM || code == ENOTSUP || code == EOPNOTSUPP || code == ENOSYS else { return -1 }
        var info = stat()
        guard lstat(to, &info) != 0 else {
            errno = EEXIST
            return -1
        }
        return rename(from, to)
    }

    /// Removes a temporary file and forgets it.
    static func remove(_ path: String) {
        unlink(path)
        TemporaryFiles.forget(path)
    }

    /// Writes `bytes` to a new file at `temporary` and syncs it.
    static func writeSynced(
        _ bytes: [UInt8], to temporary: String, reportedAs name: String, mode: mode_t,
        owner: (user: uid_t, group: gid_t)? = nil
    ) throws(SnapshotError) {
        let fd = TemporaryFiles.create(temporary) { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
        guard fd >= 0 else {
            throw SnapshotError(.io, path: name, "cannot create a file in \(folder(of: name)): \(systemError())")
        }
        _ = fchmod(fd, mode)
        if let owner { _ = fchown(fd, owner.user, owner.group) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                writeBytes(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let reason = systemError()
                close(fd)
                remove(temporary)
                throw SnapshotError(.io, path: name, "cannot write: \(reason)")
            }
            offset += written
        }
        guard fsync(fd) == 0, close(fd) == 0 else {
            let reason = systemError()
            remove(temporary)
            throw SnapshotError(.io, path: name, "cannot sync: \(reason)")
        }
    }

    /// Asks the kernel to drop the cached pages of the file at `path`, when there is one (pages that
    /// are dirty or mapped stay); its bytes are untouched.
    static func dropCachedPages(of path: String) {
        #if os(Linux)
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { return }
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
            close(fd)
        #endif
    }

    /// Syncs the folder holding `path`, so a rename in it survives a crash.
    static func syncFolder(of path: String) throws(SnapshotError) {
        let folder = folder(of: path)
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SnapshotError(.io, path: folder, "cannot open the folder to sync it: \(systemError())")
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SnapshotError(.io, path: folder, "cannot sync the folder: \(systemError())") }
    }
}

/// `write(2)`, named apart from the methods called `write`. A write that may reach a pipe runs inside
/// `withSIGPIPEHeldBack`.
func writeBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(descriptor, bytes, count)
    #else
        Darwin.write(descriptor, bytes, count)
    #endif
}

/// Runs `body`, whose writes may reach a pipe, with SIGPIPE held back on this thread: a pipe whose reader went
/// away is `EPIPE` for the writer, never the signal, whose default action ends the whole process. The command
/// line sets the signal aside, but a program embedding the library need not: a rejects FIFO whose reader left
/// killed it (exit 141) with the ledger saying `running`. A SIGPIPE the body raised is taken back before the
/// thread's mask is restored; one pending before it stays pending. Held around a whole output's write, not
/// each `write(2)`: an export to a shared pipe writes 4 KiB at a time, and three more system calls for each
/// were 148,000 for a 1M-fact export.
func withSIGPIPEHeldBack<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
    #if canImport(Glibc)
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        var pending = sigset_t()
        sigpending(&pending)
        let wasPending = sigismember(&pending, SIGPIPE) == 1
        defer {
            let code = errno
            if !wasPending, sigpending(&pending) == 0, sigismember(&pending, SIGPIPE) == 1 {
                var now = timespec(tv_sec: 0, tv_nsec: 0)
                while sigtimedwait(&pipeSignal, nil, &now) < 0, errno == EINTR {}
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
            errno = code
        }
    #endif
    return try body()
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for a body that throws `SnapshotError` (the standard one loses the type).
    func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws(SnapshotError) -> R) throws(SnapshotError) -> R {
        let result = withUnsafeBytes { raw in Result { () throws(SnapshotError) -> R in try body(raw) } }
        return try result.get()
    }
}

/// A `FILE.sha256` line as `sha256sum` writes it: the hex digest, two spaces, the file's name. A name
/// with a backslash, line feed or carriage return is written as GNU coreutils does, so that
/// `sha256sum -c` reads it back: the line starts with a backslash and those bytes are escaped
/// (`\\`, `\n`, `\r`).
func checksumLine(_ hash: String, _ path: String) -> [UInt8] {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    var escaped: [UInt8] = []
    var needsEscape = false
    for byte in name.utf8 {
        switch byte {
        case UInt8(ascii: "\\"): escaped += Array("\\\\".utf8); needsEscape = true
        case UInt8(ascii: "\n"): escaped += Array("\\n".utf8); needsEscape = true
        case UInt8(ascii: "\r"): escaped += Array("\\r".utf8); needsEscape = true
        default: escaped.append(byte)
        }
    }
    return (needsEscape ? [UInt8(ascii: "\\")] : []) + Array("\(hash)  ".utf8) + escaped + [UInt8(ascii: "\n")]
}

/// `path` made absolute with symbolic links resolved, or as given when it cannot be resolved.
func absolutePath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}


/// `fsync` of the file at `path`, opened anew (run in a `BackgroundResult`, the disk works while the
/// caller goes on: a restored database is synced while SQLite checks it).
/// - Throws: `SnapshotError` `.io` when it could not be synced.
func syncFile(_ path: String) throws(SnapshotError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    defer { if fd >= 0 { close(fd) } }
    guard fd >= 0, fsync(fd) == 0 else {
        throw SnapshotError(.io, path: path, "cannot sync: \(systemError())")
    }
}
