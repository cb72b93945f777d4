#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How many files this process may have open (`ulimit -n`), raised when a command needs more.
enum OpenFileLimit {
    /// Raises the soft limit to at least `needed` when the hard limit allows it.
    /// - Returns: the soft limit now in force, which is below `needed` when the hard limit is.
    static func raise(toAtLeast needed: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return needed }
        let wanted = rlim_t(max(needed, 0))
        if limit.rlim_cur != rlim_t.max, limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = limit.rlim_max == rlim_t.max ? wanted : min(wanted, limit.rlim_max)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur == rlim_t.max || limit.rlim_cur > rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }
}
