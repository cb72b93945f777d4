#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The memory this process holds now.
public enum ProcessMemory {
    /// The resident set size in bytes: `/proc/self/statm` on Linux, the peak (`getrusage`) elsewhere.
    public static func residentBytes() -> Int {
        #if os(Linux)
            let descriptor = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
            if descriptor >= 0 {
                defer { close(descriptor) }
                var buffer = [UInt8](repeating: 0, count: 128)
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    // "size resident shared text lib data dt", in pages.
                    let fields = buffer[0..<count].split(separator: UInt8(ascii: " "))
                    if fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) {
                        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
                    }
                }
            }
        #endif
        return ResourceUsage.peakRSSBytes()
    }
}
