#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the process uses of the machine.
#if os(Linux)
private let RUSAGE_SELF_ID = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_ID = RUSAGE_SELF
#endif

public enum ResourceUsage {
    /// The largest resident set size the process has had, in bytes.
    ///
    /// On Linux the kernel's mark of this program's memory (`VmHWM`), which starts afresh at `exec`:
    /// `getrusage` counts the memory of the process before it, so factpipe started by a program of
    /// 600 MB (a Python script's `subprocess.run`) reported a peak RSS of 643 MB for a load of 33 MB.
    public static func peakRSSBytes() -> Int {
        #if os(Linux)
            if let kilobytes = statusKilobytes("VmHWM:") { return kilobytes * 1024 }
        #endif
        var usage = rusage()
        guard getrusage(RUSAGE_SELF_ID, &usage) == 0 else { return 0 }
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024
        #else
        return Int(usage.ru_maxrss)
        #endif
    }

    /// The figure of the line of `/proc/self/status` that starts with `field`, in KiB; nil when it cannot be read.
    static func statusKilobytes(_ field: String) -> Int? {
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
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field) }) else { return nil }
        return Int(line.dropFirst(field.count).filter { $0.isNumber })
    }

    /// Cores online now.
    public static var onlineCores: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
