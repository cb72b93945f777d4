#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The peak resident memory of one stretch of a run, such as the load inside `scale-test`.
///
/// `ResourceUsage.peakRSSBytes()` is the peak since the program started: on Linux `VmHWM` in
/// `/proc/self/status`, which the kernel resets to the current resident size when `5` is written to
/// `/proc/self/clear_refs`; that measures a stretch alone. Where that is not possible the peak since
/// the start stands in (never lower than the truth). The reset lowers what `peakRSSBytes()` reports
/// for the whole process: whoever needs the earlier peak reads it first.
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
}
