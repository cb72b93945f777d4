#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A symbolic link that another user made (neither this user nor root) is not written through.
///
/// In a folder others may write — a group's shared folder, or a user's folder that root's nightly job
/// writes into — such a link hands factpipe's writes, made as whoever runs it, to any file the link names:
/// root's `run` appended its rejects to a root-only file through a user's link, and replaced another with
/// its report. The kernel's own guard (`protected_symlinks`) covers sticky world-writable folders only. A
/// link this user or root made is followed as before (a metrics file another tool manages by a link).
enum ForeignSymlink {
    /// Why `path` is not written through: nil unless its last component is a symbolic link of another user,
    /// or one whose target is not UTF-8 (which factpipe cannot name: the link was taken for a plain file and
    /// replaced by one, where a link is written through).
    static func problem(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return nil }
        if PathText.symlinkTarget(path) == nil {
            return "it is a symbolic link to a name that is not UTF-8, which factpipe cannot write through; name "
                + "the file it points to, or give it a UTF-8 name"
        }
        guard info.st_uid != geteuid(), info.st_uid != 0 else { return nil }
        return "it is a symbolic link made by \(UserName.of(uid: info.st_uid)), which factpipe does not write "
            + "through (it could name any file this user may write); remove it, or name the file it points to"
    }
}
