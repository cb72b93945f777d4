import Synchronization

/// Watches one factpipe database while it lives: probes it on demand and keeps the figures that
/// `/metrics`, `/events` and the page show. Safe to use from any thread; probes run one at a time.
///
/// The HTTP layer calls `probe()` once an interval from a thread that may block, and reads the
/// figures from its own threads; nothing here knows about HTTP.
public final class DatabaseMonitor: Sendable {
    /// The database watched, as given.
    public let databasePath: String
    /// Seconds between probes.
    public let interval: Double
    private let prober: Mutex<MonitorProbe>
    private let state: Mutex<MonitorFigures>

    /// Creates a monitor of the database at `databasePath`, probed every `interval` seconds; nothing
    /// is read until the first `probe()`.
    public init(databasePath: String, interval: Double) {
        self.databasePath = databasePath
        self.interval = interval
        prober = Mutex(MonitorProbe(databasePath: databasePath))
        state = Mutex(MonitorFigures(interval: interval))
    }

    /// Reads the database once and takes the sample into the figures; returns the sample.
    @discardableResult
    public func probe() -> MonitorSample {
        let sample = prober.withLock { $0.sample() }
        let resident = ProcessMemory.residentBytes()
        state.withLock { $0.record(sample, residentBytes: resident) }
        return sample
    }

    /// A copy of the figures as they are now.
    public var figures: MonitorFigures { state.withLock { $0 } }

    /// Nil while the last probe could read the database; otherwise why not (or that none ran yet).
    public var healthProblem: String? {
        state.withLock { figures in
            guard let latest = figures.latest else { return "the database has not been probed yet" }
            return latest.failure
        }
    }
}
