import FactPipe
import NIOCore
import NIOHTTP1

/// The server's clients: how many connections are open, and the `/events` streams to write to.
///
/// Lives on the server's one event loop: every method must be called there (the server has a
/// single loop thread, so its connections, its probe results and its counts all meet on it).
///
/// Back-pressure: an event is written to a stream only while its channel is writable, that is
/// while less than the high watermark waits to be sent; a stream that stays unwritable for
/// `stallSeconds` has stopped reading and is closed. What one slow client can hold is thus its
/// kernel send buffer plus the high watermark plus one event, whatever it does.
final class ClientRegistry: @unchecked Sendable {
    private struct Stream {
        var channel: any Channel
        var stalledSince: NIODeadline?
    }

    let eventLoop: any EventLoop
    private let configuration: MonitorServerConfiguration
    private let log: @Sendable (String) -> Void
    private var streams: [ObjectIdentifier: Stream] = [:]
    private(set) var connections = 0
    private(set) var droppedStreams = 0
    private(set) var refusedConnections = 0

    init(eventLoop: any EventLoop, configuration: MonitorServerConfiguration, log: @escaping @Sendable (String) -> Void)
    {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.log = log
    }

    /// The counts `/metrics` and the events report.
    var counts: MonitorServerCounts {
        eventLoop.preconditionInEventLoop()
        return MonitorServerCounts(
            connections: connections, eventClients: streams.count, droppedEventClients: droppedStreams,
            refusedConnections: refusedConnections)
    }

    /// Admits a new connection, or counts it refused when the server has its most.
    func admitConnection() -> Bool {
        eventLoop.preconditionInEventLoop()
        guard connections < configuration.maxConnections else {
            refusedConnections += 1
            if refusedConnections == 1 || refusedConnections % 100 == 0 {
                log(
                    "refused a connection: \(connections) open, at most \(configuration.maxConnections) "
                        + "(\(refusedConnections) refused so far)")
            }
            return false
        }
        connections += 1
        return true
    }

    /// Counts an admitted connection closed.
    func connectionClosed() {
        eventLoop.preconditionInEventLoop()
        connections -= 1
    }

    /// Adds `channel` to the streams that receive each event; it leaves them when it closes.
    func addStream(_ channel: any Channel) {
        eventLoop.preconditionInEventLoop()
        let key = ObjectIdentifier(channel)
        streams[key] = Stream(channel: channel)
        // Runs on the channel's loop, which is this registry's.
        channel.closeFuture.whenComplete { [self] _ in self.streams[key] = nil }
    }

    /// Writes `event` to every stream that is reading, and closes those that stopped.
    func broadcast(_ event: ByteBuffer) {
        eventLoop.preconditionInEventLoop()
        let now = NIODeadline.now()
        let stallLimit = TimeAmount.nanoseconds(Int64(configuration.stallSeconds * 1e9))
        for (key, stream) in streams {
            if stream.channel.isWritable {
                streams[key]?.stalledSince = nil
                stream.channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(event)), promise: nil)
            } else if let since = stream.stalledSince {
                guard now - since >= stallLimit else { continue }
                streams[key] = nil
                droppedStreams += 1
                // As refused connections: the first and every hundredth, so that clients which connect and
                // stop reading, again and again, cannot fill the log.
                if droppedStreams == 1 || droppedStreams % 100 == 0 {
                    let peer = stream.channel.remoteAddress.map { " \($0)" } ?? ""
                    log("dropped an /events client\(peer) that stopped reading (\(droppedStreams) dropped so far)")
                }
                stream.channel.close(promise: nil)
            } else {
                streams[key]?.stalledSince = now
            }
        }
    }

    /// Closes every stream (the server is stopping).
    func closeStreams() {
        eventLoop.preconditionInEventLoop()
        for stream in streams.values { stream.channel.close(promise: nil) }
        streams = [:]
    }
}
