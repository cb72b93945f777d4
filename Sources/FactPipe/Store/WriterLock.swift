#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One load at a time per database: an exclusive `flock` on `<database>-factpipe.lock`, beside the
/// database's real file (symlinks resolved), so every name of one database shares one lock.
///
/// The lock file says which process holds it, so a second load that gives up can name the first.
/// The kernel drops the lock when the holder dies, even by `kill -9`; readers never take it.
final class WriterLock {
    let path: String
    private var descriptor: Int32
    private let description: String
    private let databasePath: String

    /// Takes the lock, waiting up to `timeoutSeconds` for another load to finish, and less once
    /// `isCancelled` says so (it is asked every 50 ms while waiting).
    /// - Throws: `StoreError` of kind `.busy` naming the holder when the wait runs out, `.interrupted`
    ///   when it was cancelled, `.lockFile` (with the system's error underneath) when the lock file
    ///   cannot be opened.
    init(
        databasePath: String, timeoutSeconds: Double, description: String, isCancelled: () -> Bool = { false }
    ) throws(StoreError) {
        path = DatabaseFile.lockPath(databasePath)
        self.description = description
        self.databasePath = databasePath
        // Never through a symlink: the lock file is truncated and written, and a link would hand that to
        // whatever file it points to. A new lock file has the database's permissions (as SQLite gives its
        // `-wal`), so that every user who may write the database may take its lock: made 0644, it kept the
        // other members of a group that shares the database out for good.
        // nil for a database still to be created: 0666 less the umask, as `FactDatabase.openForWriting` makes it.
        let mode = NewFileAttributes.like(database: databasePath)?.mode
        var fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode ?? 0o666)
        if fd >= 0 {
            if let mode { _ = fchmod(fd, mode) }
        } else if errno == EEXIST {
            fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
            // One this user may not write (another user's, from before the above, or a mode changed by hand) is
            // still locked through a read-only descriptor (`flock` needs no more); it then keeps the last
            // holder's words, which this load cannot replace.
            if fd < 0 && errno == EACCES {
                fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            }
        }
        // Also a lock file root made before this was so: it is given back to the database's owner.
        if fd >= 0 { Self.giveOwnerOfDatabase(fd, databasePath: databasePath) }
        if fd < 0 && errno == ELOOP {
            throw StoreError(
                kind: .lockFile, path: databasePath,
                message: "cannot open database: its lock file \(path) is a symbolic link, which factpipe does not "
                    + "write through; remove it")
        }
        guard fd >= 0 else {
            let error = SystemError()
            var info = stat()
            let exists = lstat(path, &info) == 0
            let what = exists
                ? "cannot open its lock file \(path) (owned by \(UserName.of(uid: info.st_uid)), mode "
                    + String(info.st_mode & 0o777, radix: 8) + ")"
                : "cannot create its lock file \(path)"
            throw StoreError(kind: .lockFile, path: databasePath, message: "cannot open database: " + what, underlying: error)
        }
        // `descriptor` is set only once the lock is held. Set before a `throw` below, the failed init
        // would run `deinit`, which closed the descriptor a second time: by then another thread may have
        // opened a file under the same number, and lost it (a parallel load's input, rejects or lock).
        let deadline = ContinuousClock.now + .wait(seconds: timeoutSeconds)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if isCancelled() {
                let holder = Self.contents(fd)
                close(fd)
                throw StoreError(
                    kind: .interrupted, path: databasePath,
                    message: "interrupted while waiting for \(Self.noun(holder: holder)) to finish (\(holder))")
            }
            guard ContinuousClock.now < deadline else {
                let holder = Self.contents(fd)
                close(fd)
                throw StoreError(
                    kind: .busy, path: databasePath,
                    message: "\(Self.noun(holder: holder)) is writing to this database (\(holder)); waited \(Duration.wait(seconds: timeoutSeconds).saidInSeconds) s")
            }
            usleep(50_000)
        }
        descriptor = fd
        let text = Array("pid \(getpid()), \(description)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// True when another process holds the writer lock of the database at `databasePath` now; looks without
    /// creating anything (a lock file that is not there is held by no one).
    static func isHeld(databasePath: String) -> Bool {
        let descriptor = open(DatabaseFile.lockPath(databasePath), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var result: Int32
        repeat { result = flock(descriptor, LOCK_SH | LOCK_NB) } while result != 0 && errno == EINTR
        if result == 0 { flock(descriptor, LOCK_UN) }
        return result != 0 && errno == EWOULDBLOCK
    }

    /// Gives a lock file root opens the owner and group of the database (or of its folder, for a
    /// database still to be created), as SQLite gives root's `-wal` and `-journal` the database's: a lock
    /// file root owned would keep the service that owns the database from ever taking the lock again
    /// (after a restore or a load run as root). Nothing for any other user, who cannot give files away.
    private static func giveOwnerOfDatabase(_ fd: Int32, databasePath: String) {
        guard geteuid() == 0 else { return }
        let real = DatabaseFile.realPath(databasePath)
        var info = stat()
        guard stat(real, &info) == 0 || stat(AtomicFileOutput.folder(of: real), &info) == 0 else { return }
        _ = fchown(fd, info.st_uid, info.st_gid)
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Checks, before a commit, that the lock file at `path` is still the one this process locked.
    ///
    /// A lock file removed while a load runs (a cleanup of `*.lock` files, say) lets the next load create a
    /// new one and write beside this one. Removed and not yet re-created, the lock is taken again on a new
    /// file; re-created by someone else, another load may have run since (and completed this one's
    /// committed batches as a killed load's), so this load must not write another byte.
    /// - Throws: `StoreError` of kind `.lockLost` naming the new file's holder.
    func reassert() throws(StoreError) {
        var held = stat()
        var named = stat()
        guard fstat(descriptor, &held) == 0 else { return }
        if lstat(path, &named) == 0 {
            guard named.st_dev != held.st_dev || named.st_ino != held.st_ino else { return }
            throw lost(holder: Self.contents(atPath: path))
        }
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw lost(holder: Self.contents(atPath: path)) }
        Self.giveOwnerOfDatabase(fd, databasePath: databasePath)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw lost(holder: Self.contents(atPath: path))
        }
        let text = Array("pid \(getpid()), \(description)\n".utf8)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = fd
    }

    private func lost(holder: String) -> StoreError {
        StoreError(
            kind: .lockLost, path: path,
            message: "the lock file was removed or replaced while this load ran, and another load may have written "
                + "to the database since (\(holder)): this load stops at its last commit; run it again with "
                + "--resume once no other load runs")
    }

    /// What a message calls the holder of a writer lock, from the words the holder left (`pid 42, import of
    /// …` in a lock file, `server process 42, factpipe optimize, from local` for PostgreSQL): "another load"
    /// for an import's, or when the words do not say; "another factpipe command" for an optimize, undo or
    /// restore's, whose words then name it (an optimize is no load).
    static func noun(holder: String) -> String {
        let words = holder.split(separator: ",", maxSplits: 2).dropFirst().first
            .map { String($0).trimmingASCIIWhitespace() } ?? ""
        let command = words.hasPrefix("factpipe ") ? words.dropFirst("factpipe ".count) : Substring(words)
        let first = command.split(separator: " ", maxSplits: 1).first ?? ""
        return ["optimize", "undo", "restore"].contains(first) ? "another factpipe command" : "another load"
    }

    private static func contents(atPath path: String) -> String {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return "holder unknown" }
        defer { close(fd) }
        return contents(fd)
    }

    private static func contents(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return "holder unknown" }
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmingASCIIWhitespace()
    }
}

extension WriterLock {
    /// Before a load into the SQLite database `options` name waits for its writer lock: throws what
    /// `BufferedFileOutput.checkNotHeld` throws for the load's rejects file, unless another load holds that database's lock. That
    /// one may be the holder of the file (the same pipeline started twice, the same import run again): the
    /// load waits for it as for any load into the database, and looks at the file again once it holds the
    /// lock. A load refused here has made nothing, not even the lock file of a database still to be made.
    /// - Throws: `FileOutputError` when another process holds the rejects file.
    static func checkRejectsNotHeld(_ options: ImportOptions) throws {
        guard let rejects = options.rejectsPath else { return }
        do {
            try BufferedFileOutput.checkNotHeld(rejects, what: "rejects file")
        } catch {
            // Looked at second (a load takes its database's lock before its rejects file and lets it go
            // after), and only then: the look holds the database's lock file for a moment.
            guard !isHeld(databasePath: options.databasePath) else { return }
            throw error
        }
    }
}
