#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The standard descriptors the process started without (a shell's `<&-` or `>&-`).
///
/// A closed one would be taken by the next file opened (the writer lock, a database): `-` would then
/// read that file, or an export to `-` write into the database. `reserve()` gives each closed one
/// `/dev/null` before anything is opened, and remembers it, so that `-` is refused as closed instead.
/// The reservation is opened the wrong way round (standard input for writing, the outputs for reading),
/// so that any other use of the descriptor still fails as on a closed one (`EBADF`) instead of reading
/// nothing or writing into /dev/null and reporting success.
public enum StandardStreams {
    /// Written once by `reserve()`, at start-up before any other thread exists; read only after.
    nonisolated(unsafe) private static var closedAtStart: Set<Int32> = []

    /// Opens /dev/null on each of 0, 1 and 2 that is closed, and records which were.
    ///
    /// Without /dev/null (a container or chroot with an empty `/dev`) the place is held by the wrong end of a
    /// pipe, which fails the same way: left empty, it went to whatever opened first (Dispatch's epoll took
    /// descriptor 0, and `import -` waited on it for ever instead of saying standard input is closed).
    public static func reserve() {
        for descriptor in Int32(0)...2 where fcntl(descriptor, F_GETFD) == -1 {
            let placeholder = open("/dev/null", descriptor == STDIN_FILENO ? O_WRONLY : O_RDONLY)
            if placeholder == descriptor {
                closedAtStart.insert(descriptor)
                continue
            }
            if placeholder >= 0 { close(placeholder) }
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { continue }
            // Standard input gets the writing end (a read fails), an output the reading end (a write fails).
            let held = descriptor == STDIN_FILENO ? ends[1] : ends[0]
            if held != descriptor {
                guard dup2(held, descriptor) == descriptor else {
                    close(ends[0])
                    close(ends[1])
                    continue
                }
            }
            for end in ends where end != descriptor { close(end) }
            closedAtStart.insert(descriptor)
        }
    }

    /// True when standard input was closed when the process started.
    public static var inputWasClosed: Bool { closedAtStart.contains(STDIN_FILENO) }
    /// True when standard output was closed when the process started.
    public static var outputWasClosed: Bool { closedAtStart.contains(STDOUT_FILENO) }

    /// What SQLite file `descriptor` (standard output or error) writes into, judged by the file's first
    /// bytes, with its path: "a SQLite database (/srv/kb.sqlite)", "a SQLite write-ahead log (…)" or
    /// "a SQLite rollback journal (…)"; nil for anything else (a terminal, a pipe, a log, an empty file).
    ///
    /// A stream sent into such a file (`run p.toml --json 1<> kb.sqlite`, `2>> kb.sqlite-wal`) would have
    /// what the command prints written over the database or its committed transactions, whichever
    /// database the command works on: a pipeline file names its own, and a failure may come before
    /// it is read. A write-only descriptor (`>>`) is read through `/proc/self/fd`.
    public static func sqliteFile(writtenBy descriptor: Int32) -> String? {
        var info = stat()
        guard !closedAtStart.contains(descriptor), fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
            info.st_size >= 16
        else { return nil }
        var head = [UInt8](repeating: 0, count: 16)
        var count = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 16, 0) }
        if count != 16 {
            let reader = open("/proc/self/fd/\(descriptor)", O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard reader >= 0 else { return nil }
            defer { close(reader) }
            var opened = stat()
            // Only the same file: /proc/self/fd of a descriptor the shell opened may not reopen it.
            guard fstat(reader, &opened) == 0, opened.st_dev == info.st_dev, opened.st_ino == info.st_ino else {
                return nil
            }
            count = head.withUnsafeMutableBytes { pread(reader, $0.baseAddress, 16, 0) }
        }
        guard count == 16, let kind = sqliteKind(head) else { return nil }
        return PathText.symlinkTarget("/proc/self/fd/\(descriptor)").map { "\(kind) (\($0))" } ?? kind
    }

    /// What SQLite file the regular file at `path` is, by its first bytes ("a SQLite database", "a SQLite
    /// write-ahead log", "a SQLite rollback journal"); nil for anything else, a file that does not exist,
    /// or one that is not a regular file (never opened: a FIFO would block).
    public static func sqliteFile(atPath path: String) -> String? {
        var info = stat()
        guard !path.isEmpty, path != "-", stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
            info.st_size >= 16
        else { return nil }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var head = [UInt8](repeating: 0, count: 16)
        guard head.withUnsafeMutableBytes({ pread(descriptor, $0.baseAddress, 16, 0) }) == 16 else { return nil }
        return sqliteKind(head)
    }

    /// The kind of SQLite file whose first 16 bytes are `head`, or nil.
    private static func sqliteKind(_ head: [UInt8]) -> String? {
        if head == InputFormat.sqliteMagic { return "a SQLite database" }
        if head[0..<3] == [0x37, 0x7f, 0x06], head[3] & 0xfe == 0x82 { return "a SQLite write-ahead log" }
        if head[0..<8] == [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7] { return "a SQLite rollback journal" }
        return nil
    }

    /// What `path` names of the standard descriptors that were closed when the process started ("standard
    /// output is closed"), through `/dev/stdout`, `/dev/stderr`, `/dev/stdin`, `/dev/fd/N` or `/proc/self/fd/N`
    /// and the links to them; nil for any other path. Such a path opens the reservation's `/dev/null` anew,
    /// the right way round: an export to `/dev/stdout` with standard output closed wrote into it and said
    /// "exported 19,582 facts", and a load of `/dev/stdin` with standard input closed was done with 0 records.
    public static func closedStream(namedBy path: String) -> String? {
        guard !closedAtStart.isEmpty, !path.isEmpty, path != "-" else { return nil }
        var current = path
        for _ in 0..<8 {
            if let number = descriptorNumber(current) {
                return closedAtStart.contains(number) ? "\(streamName(number)) is closed" : nil
            }
            guard let target = PathText.symlinkTarget(current) else { return nil }
            current = target.hasPrefix("/") ? target : AtomicFileOutput.folder(of: current) + "/" + target
        }
        return nil
    }

    /// N of `/proc/self/fd/N`, `/proc/<this process>/fd/N`, `/proc/thread-self/fd/N` or `/dev/fd/N`.
    private static func descriptorNumber(_ path: String) -> Int32? {
        for folder in ["/proc/self/fd/", "/proc/thread-self/fd/", "/proc/\(getpid())/fd/", "/dev/fd/"]
        where path.hasPrefix(folder) {
            return Int32(path.dropFirst(folder.count))
        }
        return nil
    }

    private static func streamName(_ descriptor: Int32) -> String {
        switch descriptor {
        case STDIN_FILENO: "standard input"
        case STDOUT_FILENO: "standard output"
        default: "standard error"
        }
    }

    /// Standard output's or standard error's descriptor when `path` names what it writes to:
    /// `/dev/stdout`, `/dev/stderr`, `/proc/self/fd/2`, or the log file the shell sent it to (`2>>cron.log`
    /// with `--report cron.log`). Such a path is written through that descriptor, as `-` is: opening it
    /// anew with `O_TRUNC`, or renaming a finished file over it, would destroy what the stream already
    /// holds (yesterday's log, this run's own messages), and `/dev/stdout` is a link the system owns.
    public static func descriptor(sameAs path: String) -> Int32? {
        var target = stat()
        guard !path.isEmpty, path != "-", stat(path, &target) == 0 else { return nil }
        for descriptor in [STDOUT_FILENO, STDERR_FILENO] where !closedAtStart.contains(descriptor) {
            var stream = stat()
            if fstat(descriptor, &stream) == 0 && stream.st_dev == target.st_dev && stream.st_ino == target.st_ino {
                return descriptor
            }
        }
        return nil
    }

    /// Waits until `descriptor` takes bytes again (or reports an error the next write gives), for a write that
    /// found a descriptor another program made non-blocking full (`EAGAIN`: standard output shared with a Node
    /// parent); nothing ends this wait but room, as a blocking write's.
    public static func waitForRoom(_ descriptor: Int32) {
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        while poll(&entry, 1, -1) < 0 && errno == EINTR {}
    }

    /// True when standard output is a pipe whose reader went away (`| head`): a write would fail with EPIPE.
    public static var outputReaderIsGone: Bool {
        var entry = pollfd(fd: STDOUT_FILENO, events: Int16(POLLOUT), revents: 0)
        return poll(&entry, 1, 0) > 0 && entry.revents & Int16(POLLERR) != 0
    }
}
