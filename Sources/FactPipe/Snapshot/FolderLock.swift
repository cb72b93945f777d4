#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive `flock` on a folder, held while an archive and the files beside it (`FILE.sha256`,
/// `FILE.manifest.json`) are renamed into it: two exports to the same path then leave the three files
/// of one of them, never an archive of one with a checksum or manifest of the other. Only that step is
/// serialised (milliseconds); the exports themselves run side by side.
final class FolderLock {
    private let descriptor: Int32

    /// Waits for the lock on `folder`. Where the folder cannot be opened or locked (a file system
    /// without `flock`), nothing is held and the renames run unserialised, as they would without it.
    init(folder: String) {
        let fd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            descriptor = -1
            return
        }
        var result = flock(fd, LOCK_EX)
        while result != 0 && errno == EINTR { result = flock(fd, LOCK_EX) }
        if result != 0 {
            close(fd)
            descriptor = -1
        } else {
            descriptor = fd
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }  // closing the last descriptor releases the lock
    }
}
