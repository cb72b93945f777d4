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
    public static func reserve() {
        for descriptor in Int32(0)...2 where fcntl(descriptor, F_GETFD) == -1 {
            if open("/dev/null", descriptor == STDIN_FILENO ? O_WRONLY : O_RDONLY) == descriptor {
                closedAtStart.insert(descriptor)
            }
        }
    }

    /// True when standard input was closed when the process started.
    public static var inputWasClosed: Bool { closedAtStart.contains(STDIN_FILENO) }
    /// True when standard output was closed when the process started.
    public static var outputWasClosed: Bool { closedAtStart.contains(STDOUT_FILENO) }

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
}
