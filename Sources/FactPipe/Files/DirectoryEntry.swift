#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading the name of an entry `readdir(3)` returns.
enum DirectoryEntry {
    /// The name of `entry`, read up to its terminating zero through the pointer readdir gave.
    ///
    /// Never through `entry.pointee`: that copies a whole `dirent` (280 bytes), while the entry in
    /// readdir's buffer is only as long as its name needs. The last entry of the buffer, ending at the end of
    /// a page, then took the copy past it: a crash (signal 11) in every command that looks through a folder
    /// holding many files (the temporary folder, say), seen in `TemporaryCopy` and likely in backup's and the
    /// scale test's sweeps alike.
    static func name(_ entry: UnsafeMutablePointer<dirent>) -> String {
        guard let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name) else { return "" }
        let start = (UnsafeRawPointer(entry) + offset).assumingMemoryBound(to: CChar.self)
        return String(decoding: UnsafeRawBufferPointer(start: start, count: strlen(start)), as: UTF8.self)
    }
}
