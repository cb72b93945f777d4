import NIOCore

/// How the monitor's HTTP server treats its clients.
public struct MonitorServerConfiguration: Sendable {
    /// Where to listen (port 0: any free port, see `MonitorServer.boundAddress`).
    public var address: ListenAddress
    /// Most connections open at once; more are answered 503 and closed.
    public var maxConnections = 64
    /// A connection that sends no request for this long is closed (an `/events` stream is exempt).
    public var idleTimeout: TimeAmount = .seconds(30)
    /// A connection must complete each request within this long of its opening or of its last request's
    /// end, however it trickles its bytes (one a few seconds keeps a read timeout from ever firing), or it
    /// is closed: a few slow clients cannot hold every connection (an `/events` stream is exempt).
    public var requestTimeout: TimeAmount = .seconds(30)
    /// Bytes a connection may have waiting to be sent before it counts as not reading: the write
    /// buffer's high watermark (the low one is a quarter of it).
    public var highWatermark = 32 * 1024
    /// The kernel's send buffer of each connection, in bytes (fixed, so it does not grow to megabytes
    /// for a client that stopped reading).
    public var socketSendBuffer = 16 * 1024
    /// An `/events` client that stays above the high watermark this long is dropped, in seconds.
    public var stallSeconds = 2.0

    /// Creates the configuration for `address` with the defaults above.
    public init(address: ListenAddress) {
        self.address = address
    }
}
