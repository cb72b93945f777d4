#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The peak resident memory of one stretch of a run, such as the load inside `scale-test`.
///
/// `getrusage` only knows the peak since the process started. On Linux the kernel keeps the same
/// figure as `VmHWM` in `/proc/self/status` and resets it to the current resident size when `5` is
/// written to `/proc/self/clear_refs`; that measures a stretch alone. Where that is not possible
/// the peak since the start stands in (never lower than the truth). The reset lowers what
/// `getrusage` reports too, for the whole process: whoever needs the earlier peak reads it first.
enum MemoryHighWaterMark {
    /// Starts a new stretch; false when the system cannot reset the mark.
    @discardableResult
    static func reset() -> Bool {
        #if os(Linux)
            let descriptor = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return false }
            defer { close(descriptor) }
            return write(descriptor, "5", 1) == 1
        #else
            return false
        #endif
    }

    /// The peak resident memory since the last successful `reset()`, in bytes (since the start of
    /// the process when there was none, or `VmHWM` cannot be read).
    static func peakBytes() -> Int {
        #if os(Linux)
            if let status = readStatus(), let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kilobytes = Int(line.dropFirst(6).filter { $0.isNumber })
            {
                return kilobytes * 1024
            }
        #endif
        return ResourceUsage.peakRSSBytes()
    }

    private static func readStatus() -> String? {
        let descriptor = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
