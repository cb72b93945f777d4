import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The names factpipe gives its temporary files, and who owns one.
///
/// A temporary file is hidden beside its final path and names its owner:
/// `.<name>.factpipe-tmp-<host>-<namespace>-<pid>-<start>-<n>`, where `<host>` is a hash of the host's
/// name (8 hex digits), `<namespace>` the inode of the owner's PID namespace, and `<start>` the owning
/// process's start time (clock ticks since boot, from `/proc/<pid>/stat`), so a later process that
/// reuses the number is not taken for the owner. A process number means something only on its host
/// and in its PID namespace: a factpipe in a container or on another host that shares the folder (NFS)
/// writes names a sweep here leaves alone. Names written before the host and namespace were recorded
/// (`.<name>.factpipe-tmp-<pid>-<start>-<n>`) are judged by number and start time alone. SQLite's side
/// files of a temporary database (`-journal`, `-wal`, `-shm`, `-factpipe.lock`) follow the name.
/// `StaleTemporaries` removes the files whose owner is gone.
public enum TemporaryName {
    /// What every temporary name holds after the final path's name.
    static let marker = ".factpipe-tmp-"
    /// Suffixes SQLite (and the writer lock) add to a temporary database's name.
    static let sideFileSuffixes = ["-journal", "-wal", "-shm", "-factpipe.lock"]

    private static let counter = Atomic<Int>(0)

    /// This process, as temporary names record it.
    static let currentOwner = Owner(pid: getpid(), start: Owner.startTime(of: getpid()) ?? 0, place: .current)

    /// Where a process runs: its process number is that of a process there and nowhere else.
    struct Place: Hashable {
        /// FNV-1a hash of the host's name.
        var host: UInt32
        /// The inode of the PID namespace (`/proc/self/ns/pid`); 0 where the system does not say.
        var namespace: UInt64

        /// Where this process runs.
        static let current = Place(host: hostHash(), namespace: pidNamespace())

        /// The FNV-1a hash of this host's name (0 when it has none).
        private static func hostHash() -> UInt32 {
            var buffer = [CChar](repeating: 0, count: 256)
            guard gethostname(&buffer, buffer.count - 1) == 0 else { return 0 }
            var hash: UInt32 = 2_166_136_261
            for byte in buffer.prefix(while: { $0 != 0 }) {
                hash = (hash ^ UInt32(UInt8(bitPattern: byte))) &* 16_777_619
            }
            return hash
        }

        /// The inode of this process's PID namespace, from the link `/proc/self/ns/pid` (`pid:[4026531836]`).
        private static func pidNamespace() -> UInt64 {
            var buffer = [CChar](repeating: 0, count: 64)
            let count = readlink("/proc/self/ns/pid", &buffer, buffer.count - 1)
            guard count > 0 else { return 0 }
            let text = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return UInt64(text.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }) ?? 0
        }
    }

    /// A process that may own temporary files.
    struct Owner: Hashable {
        var pid: Int32
        /// Start time in clock ticks since boot; 0 where the system does not say.
        var start: UInt64
        /// Where it runs; nil in a name written before that was recorded.
        var place: Place?

        /// What a temporary name records of this owner, for the `number`th name it makes.
        func nameSuffix(number: Int) -> String {
            let host = String(place?.host ?? 0, radix: 16)
            let at = place.map { String(repeating: "0", count: 8 - host.count) + host + "-\($0.namespace)-" } ?? ""
            return at + "\(pid)-\(start)-\(number)"
        }

        /// True while the process that wrote the name runs (the same number and the same start time).
        var isAlive: Bool {
            if let now = Self.startTime(of: pid) { return start == 0 || now == start }
            // No /proc entry: ask the kernel whether the number is in use at all.
            return kill(pid, 0) == 0 || errno == EPERM
        }

        /// The start time of process `pid` (field 22 of `/proc/<pid>/stat`), or nil when there is none.
        static func startTime(of pid: Int32) -> UInt64? {
            let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var bytes = [UInt8](repeating: 0, count: 1024)
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return nil }
            // The command name, in parentheses, may hold spaces: count fields after its closing one.
            let text = bytes[0..<count]
            guard let close = text.lastIndex(of: UInt8(ascii: ")")) else { return nil }
            let fields = text[(close + 1)...].split(separator: UInt8(ascii: " "))
            // Fields after the name start at field 3 (state); the start time is field 22.
            guard fields.count > 19 else { return nil }
            return UInt64(String(decoding: fields[19], as: UTF8.self))
        }
    }

    /// A new hidden name beside `path`, unique to this process and call.
    static func make(for path: String) -> String {
        name(for: path, owner: currentOwner, number: counter.add(1, ordering: .relaxed).newValue)
    }

    /// The `number`th hidden name `owner` makes beside `path`.
    static func name(for path: String, owner: Owner, number: Int) -> String {
        let (folder, base) = PathText.split(path)
        let prefix = path.contains("/") ? (folder == "/" ? "/" : folder + "/") : ""
        let suffix = marker + owner.nameSuffix(number: number)
        return prefix + "." + shortened(base, room: Int(NAME_MAX) - 1 - suffix.utf8.count - longestSideFileSuffix) + suffix
    }

    /// The most bytes a side file's suffix adds to a temporary name (`-factpipe.lock`).
    static let longestSideFileSuffix = sideFileSuffixes.map(\.utf8.count).max() ?? 0

    /// `name` when it fits in `room` bytes, else its first characters and `~` with eight hex digits of its
    /// hash (FNV-1a), in `room` bytes: an output named with 200 bytes or more could not be written at all,
    /// its temporary name being longer than a name may be (ENAMETOOLONG).
    static func shortened(_ name: String, room: Int) -> String {
        guard name.utf8.count > room else { return name }
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let digits = String(hash, radix: 16)
        let tag = "~" + String(repeating: "0", count: 8 - digits.count) + digits
        var kept = String.UnicodeScalarView()
        var bytes = 0
        for scalar in name.unicodeScalars {
            let size = String(scalar).utf8.count
            guard bytes + size <= room - tag.utf8.count else { break }
            kept.append(scalar)
            bytes += size
        }
        return String(kept) + tag
    }

    /// The owner recorded in a folder entry's name, or nil when factpipe did not name it.
    static func owner(ofEntry name: String) -> Owner? {
        guard name.hasPrefix("."), let range = name.ranges(of: marker).last else { return nil }
        var rest = Substring(name[range.upperBound...])
        for suffix in sideFileSuffixes where rest.hasSuffix(suffix) {
            rest = rest.dropLast(suffix.count)
            break
        }
        var parts = rest.split(separator: "-", omittingEmptySubsequences: false)
        var place: Place?
        if parts.count == 5 {
            guard parts[0].count == 8, let host = UInt32(parts[0], radix: 16), let namespace = UInt64(parts[1])
            else { return nil }
            place = Place(host: host, namespace: namespace)
            parts.removeFirst(2)
        }
        guard parts.count == 3, let pid = Int32(parts[0]), pid > 0, let start = UInt64(parts[1]),
            Int(parts[2]) != nil
        else { return nil }
        return Owner(pid: pid, start: start, place: place)
    }
}
