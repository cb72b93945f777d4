#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The first bytes of a regular file, read without waiting (a FIFO at the path is not opened for long).
enum FileHead {
    /// Up to `count` bytes from the start of the regular file at `path` (empty for an empty file); nil when
    /// it is not a regular file or cannot be read.
    static func bytes(_ path: String, count: Int) -> ArraySlice<UInt8>? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        if status.st_size == 0 { return [] }
        var head = [UInt8](repeating: 0, count: count)
        let read = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard read > 0 else { return nil }
        return head[..<read]
    }
}
