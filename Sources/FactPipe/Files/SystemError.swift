#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call that failed, with its `errno`: the cause another error carries.
///
/// `description` is the system's text for the code, e.g. `Permission denied`.
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `errno` value.
    public var code: Int32

    /// The error of `code`, by default the calling thread's current `errno`.
    public init(code: Int32 = errno) {
        self.code = code
    }

    /// The system's text for `code`.
    public var description: String { String(cString: strerror(code)) }
}

/// The text of the current `errno`.
func systemError(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
