#if canImport(Glibc)
    import Glibc
#endif

/// The folder for temporary files: `TMPDIR` when set and not empty, else `/tmp` (without a trailing slash).
/// The one place factpipe reads `TMPDIR`.
func temporaryFolder() -> String {
    if let value = getenv("TMPDIR") {
        let folder = String(cString: value)
        if !folder.isEmpty { return folder.hasSuffix("/") && folder.count > 1 ? String(folder.dropLast()) : folder }
    }
    return "/tmp"
}
