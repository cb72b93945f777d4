#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finishes the commit of an archive whose writer was killed after renaming the archive into place and
/// before renaming the files beside it (`FILE.sha256`, `FILE.manifest.json`).
///
/// `AtomicFileOutput.commit` writes the sidecars under hidden temporary names, moves the old ones aside
/// under hidden names too, renames the archive, then the sidecars. A `kill -9` in the milliseconds between
/// the two renames left the new archive alone: `verify` and `restore` refused a plain snapshot as
/// `missing_manifest`, and the next command writing into the folder removed the hidden sidecars as litter.
/// A hidden sidecar of a writer that is gone is put in place instead when the archive at its final path is
/// the one it describes: a checksum file whose hash is the archive's, a manifest whose content hash and
/// size are the plain archive's own (the newest such manifest). So a kill before the archive's rename puts
/// the old sidecars back beside the old archive, and one after it the new ones beside the new archive.
/// Anything else is left to `StaleTemporaries` to remove.
enum SidecarRollForward {
    /// The files a writer puts beside an archive.
    static let suffixes = [".sha256", ".manifest.json"]

    /// The archive in `folder` a hidden sidecar's folder entry `name` belongs to (its name, without the
    /// folder), or nil when the entry is no sidecar's temporary name. A long name is shortened in its
    /// temporary name (`TemporaryName.shortened`): then the folder's names are compared with it.
    static func archiveName(ofEntry name: String, in folder: String) -> String? {
        guard let (base, room) = hiddenBase(of: name) else { return nil }
        for suffix in suffixes where base.hasSuffix(suffix) && base.count > suffix.count {
            return String(base.dropLast(suffix.count))
        }
        guard base.utf8.count > 9, base.utf8.dropLast(8).last == UInt8(ascii: "~"),
            let directory = opendir(folder.isEmpty ? "." : folder)
        else { return nil }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let candidate = DirectoryEntry.name(entry)
            let isIt = suffixes.contains { TemporaryName.shortened(candidate + $0, room: room) == base }
            if !candidate.hasPrefix("."), isIt { return candidate }
        }
        return nil
    }

    /// What a temporary name keeps of its final name (`base`), and the room `TemporaryName.make` left that,
    /// from the length of what follows it; nil for a name factpipe did not make.
    private static func hiddenBase(of name: String) -> (base: String, room: Int)? {
        guard name.hasPrefix("."), let marker = name.ranges(of: TemporaryName.marker).last else { return nil }
        let base = String(name[name.index(after: name.startIndex)..<marker.lowerBound])
        let tail = name.utf8.count - 1 - base.utf8.count
        return (base, Int(NAME_MAX) - 1 - tail - TemporaryName.longestSideFileSuffix)
    }

    /// Puts in place each missing sidecar of the regular file at `path` that a writer that is gone left
    /// under a hidden name and that describes the file as it is; returns the paths put in place. Never
    /// fails: a folder that cannot be read or written is left as it is.
    @discardableResult
    static func complete(_ path: String) -> [String] {
        let (folder, name) = PathText.split(path)
        let missing = suffixes.filter { access(path + $0, F_OK) != 0 && errno == ENOENT }
        guard !missing.isEmpty else { return [] }
        let candidates = hiddenSidecars(in: folder, of: name, suffixes: missing)
        guard !candidates.isEmpty, let (sha256, stamp) = try? FileHasher.hash(path: path, includingLog: false) else {
            return []
        }
        var matching: [(temporary: String, final: String)] = []
        for suffix in missing {
            // The newest that describes the file: an export over an archive of the same bytes, killed after its
            // rename, leaves the old manifest moved aside beside its own, both describing the file.
            let described = candidates.filter { $0.suffix == suffix }.compactMap { candidate in
                describedAt(candidate.path, suffix: suffix, sha256: sha256, size: stamp.size)
                    .map { (candidate.path, $0) }
            }
            guard let newest = described.max(by: { $0.1 < $1.1 }) else { continue }
            matching.append((newest.0, path + suffix))
        }
        guard !matching.isEmpty else { return [] }
        // Serialised with an export's own renames into the folder, and only onto the file that was hashed.
        let lock = FolderLock(folder: folder)
        defer { withExtendedLifetime(lock) {} }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        let unchanged = FileStamp(descriptor: descriptor) == stamp
        close(descriptor)
        guard unchanged else { return [] }
        var placed: [String] = []
        for file in matching where access(file.final, F_OK) != 0 && errno == ENOENT {
            if rename(file.temporary, file.final) == 0 { placed.append(file.final) }
        }
        if !placed.isEmpty { try? AtomicFileOutput.syncFolder(of: path) }
        return placed
    }

    /// The hidden sidecars of `name` in `folder`, for the given suffixes, whose writer is gone.
    private static func hiddenSidecars(in folder: String, of name: String, suffixes: [String])
        -> [(path: String, suffix: String)]
    {
        guard let directory = opendir(folder.isEmpty ? "." : folder) else { return [] }
        defer { closedir(directory) }
        let descriptor = dirfd(directory)
        var found: [(path: String, suffix: String)] = []
        while let entry = readdir(directory) {
            let entryName = DirectoryEntry.name(entry)
            guard let owner = TemporaryName.owner(ofEntry: entryName),
                owner.place.map({ $0 == .current }) ?? true, !owner.isAlive,
                let (base, room) = hiddenBase(of: entryName)
            else { continue }
            guard let suffix = suffixes.first(where: { TemporaryName.shortened(name + $0, room: room) == base }) else {
                continue
            }
            var info = stat()
            guard fstatat(descriptor, entryName, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFREG
            else { continue }
            found.append((PathText.joined(folder, entryName), suffix))
        }
        return found
    }

    /// When the sidecar at `temporary` describes a file of `size` bytes whose SHA-256 is `sha256`, the time its
    /// manifest was made ("" for a checksum file, which says nothing more); nil when it does not.
    private static func describedAt(_ temporary: String, suffix: String, sha256: String, size: Int64) -> String? {
        guard
            let text = try? ArchiveReader.readSmallFile(temporary, limit: SkippableFrame.maxManifestBytes),
            !text.isEmpty
        else { return nil }
        if suffix == ".sha256" {
            return text.prefix(64).lowercased() == sha256 && text.dropFirst(64).first == " " ? "" : nil
        }
        guard let manifest = try? SnapshotManifest.decode(text, path: temporary),
            manifest.compression == "none", manifest.contentSHA256 == sha256, manifest.contentBytes == size
        else { return nil }
        return manifest.createdAt
    }
}
