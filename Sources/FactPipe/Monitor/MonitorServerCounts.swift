/// What the monitor's HTTP server reports of its clients, for `/metrics` and the events.
public struct MonitorServerCounts: Sendable, Equatable {
    /// Connections open now.
    public var connections = 0
    /// `/events` clients streaming now.
    public var eventClients = 0
    /// `/events` clients dropped because they stopped reading.
    public var droppedEventClients = 0
    /// Connections refused because the server had its most clients.
    public var refusedConnections = 0

    /// Creates counts, all zero unless given.
    public init(connections: Int = 0, eventClients: Int = 0, droppedEventClients: Int = 0, refusedConnections: Int = 0)
    {
        self.connections = connections
        self.eventClients = eventClients
        self.droppedEventClients = droppedEventClients
        self.refusedConnections = refusedConnections
    }
}
