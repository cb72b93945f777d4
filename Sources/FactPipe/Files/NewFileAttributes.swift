#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The permissions, and for root the owner, of a file a command makes from a database (a rejects file; the
/// owner also for a snapshot or a backup, whose permissions are the database's already).
///
/// Such a file holds records of the input: it is no more readable than the database they went into (a
/// rejects file of a 0600 database came out 0644, readable by every user), and as writable by the group
/// that shares the database. Made by root (a nightly job) for another user's database, it is that user's,
/// so that the user's own loads with the same rejects path can still append to it.
public struct NewFileAttributes: Sendable {
    /// The permission bits, set whatever the umask.
    public var mode: mode_t
    /// The owner and group to give the file, when this process may and should.
    public var owner: (user: uid_t, group: gid_t)?

    /// For a file beside the database at `database`: its read and write bits and, run as root, its owner and
    /// group; nil when the database is not there yet (the file then gets the usual 0644 less the umask). A
    /// PostgreSQL database's file is readable by its user alone, as its snapshots are.
    public static func like(database: String) -> NewFileAttributes? {
        if PostgreSQLAddress.isPostgreSQL(database) { return NewFileAttributes(mode: 0o600) }
        var info = stat()
        guard stat(DatabaseFile.realPath(database), &info) == 0 else { return nil }
        return NewFileAttributes(
            mode: info.st_mode & 0o666, owner: geteuid() == 0 ? (info.st_uid, info.st_gid) : nil)
    }
}
