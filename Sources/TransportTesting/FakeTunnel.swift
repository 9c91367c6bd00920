// An in-memory tunnel for tests of the code that uses one: the pump's tunnel endpoint, the relay's
// HTTP proxy, the connect side's SOCKS server and TUN pump, the share side's packet sessions.
import Transport
import Wire

/// Records what its user does (streams opened, bytes sent, FIN, resets, `connected` signals, credit
/// returned, datagrams per channel) and lets a test play the peer: deliver bytes, FIN, resets,
/// `connected`, credit, and the drain of a full datagram backlog. Backpressure is simulated by
/// `capacity` (stream bytes) and `datagramRoom` (datagrams): set one to 0 and the user has to wait
/// for `grant` / `drainDatagrams`. Like a real tunnel it is confined to its loop: touch it there.
public final class FakeTunnel: TunnelStreams, TunnelDatagrams {
    /// One stream, as the fake saw it.
    public final class Stream {
        public let id: UInt32
        /// The OPEN metadata; nil for a stream the user attached to (one the peer opened).
        public let metadata: [UInt8]?
        public fileprivate(set) var handler: TunnelStreamHandler?
        /// Bytes the user sent on the stream, in order.
        public fileprivate(set) var sent: [UInt8] = []
        /// The user half-closed the stream.
        public fileprivate(set) var finished = false
        public fileprivate(set) var resets: [ResetCode] = []
        /// Credit the user gave back (`consumed`).
        public fileprivate(set) var consumed = 0
        public fileprivate(set) var connectedSignals = 0
        public fileprivate(set) var detached = false
        /// The user waits for `tunnelStreamIsWritable`.
        public fileprivate(set) var wantsWritable = false

        fileprivate init(id: UInt32, metadata: [UInt8]?, handler: TunnelStreamHandler?) {
            self.id = id
            self.metadata = metadata
            self.handler = handler
        }

        public var sentText: String { String(decoding: sent, as: UTF8.self) }

        // The peer's side.
        public func deliver(_ bytes: [UInt8]) { bytes.withUnsafeBytes { handler?.tunnelStream(id, didReceive: $0) } }
        public func deliverFin() { handler?.tunnelStreamDidFinish(id) }
        /// Like the real tunnel, the handler is forgotten before it hears the reset.
        public func deliverReset(_ code: ResetCode, reason: String = "test") {
            let handler = self.handler
            self.handler = nil
            handler?.tunnelStream(id, didReset: code, reason: reason)
        }
        public func deliverConnected() { handler?.tunnelStreamDidConnect(id) }
    }

    public let loop: EventLoop
    public var isOpen = true
    public var memoryBudget: MemoryBudget?
    /// Every stream, by id.
    public private(set) var streams: [UInt32: Stream] = [:]
    /// The streams the user opened, in order.
    public private(set) var opened: [Stream] = []
    /// What the next `open` returns; ids go up by two, as a mux side's do.
    public var nextStreamID: UInt32
    /// `open` fails (nil) when false: the mux is out of stream ids or closing.
    public var canOpen = true

    /// Stream bytes `send` takes from now on (all streams together); `.max` is unlimited.
    public var capacity = Int.max
    /// Datagrams the tunnel takes from now on; `.max` is unlimited. At 0 `hasDatagramRoom` is false.
    public var datagramRoom = Int.max
    /// Datagrams the user sent, in order, with their channels.
    public private(set) var datagrams: [(channel: UInt32, bytes: [UInt8])] = []
    /// Datagrams refused for lack of room.
    public private(set) var droppedDatagrams = 0
    /// The user asked for `onDatagramRoom` and has not heard it yet.
    public private(set) var waitsForDatagramRoom = false
    public var onDatagramRoom: (() -> Void)?
    /// Called after each datagram is taken (tests on a running loop stop it from here).
    public var onDatagramSent: (() -> Void)?

    public init(loop: EventLoop, firstStreamID: UInt32 = 1) {
        self.loop = loop
        nextStreamID = firstStreamID
    }

    /// The stream `id`; a test failing to find one it expects is a bug in the test.
    public subscript(id: UInt32) -> Stream {
        guard let stream = streams[id] else { preconditionFailure("FakeTunnel has no stream \(id)") }
        return stream
    }

    /// The datagrams sent on `channel`, in order.
    public func datagrams(on channel: UInt32) -> [[UInt8]] {
        datagrams.filter { $0.channel == channel }.map(\.bytes)
    }

    // MARK: The peer's side

    /// Credit came back: `capacity` bytes fit, and every stream waiting for room hears it once.
    public func grant(_ capacity: Int) {
        self.capacity = capacity
        for stream in streams.values.sorted(by: { $0.id < $1.id }) where stream.wantsWritable {
            stream.wantsWritable = false
            stream.handler?.tunnelStreamIsWritable(stream.id)
        }
    }

    /// The backlog drained: room for `room` more datagrams; a waiting user hears it once.
    public func drainDatagrams(room: Int = .max) {
        datagramRoom = room
        guard waitsForDatagramRoom else { return }
        waitsForDatagramRoom = false
        onDatagramRoom?()
    }

    // MARK: TunnelStreams

    public func open(metadata: [UInt8], handler: TunnelStreamHandler?) -> UInt32? {
        guard isOpen, canOpen else { return nil }
        let stream = Stream(id: nextStreamID, metadata: metadata, handler: handler)
        nextStreamID += 2
        streams[stream.id] = stream
        opened.append(stream)
        return stream.id
    }

    public func attach(stream id: UInt32, handler: TunnelStreamHandler) {
        if let stream = streams[id] { return stream.handler = handler }
        streams[id] = Stream(id: id, metadata: nil, handler: handler)
    }

    public func detach(stream id: UInt32) {
        streams[id]?.detached = true
        streams[id]?.handler = nil
    }

    public func sendCapacity(stream id: UInt32) -> Int { isOpen ? capacity : 0 }

    public func notifyWhenWritable(stream id: UInt32) { streams[id]?.wantsWritable = true }

    @discardableResult
    public func send(stream id: UInt32, _ bytes: UnsafeRawBufferPointer) -> Int {
        let n = min(sendCapacity(stream: id), bytes.count)
        streams[id]?.sent += bytes[0..<n]
        if capacity != .max { capacity -= n }
        return n
    }

    public func consumed(stream id: UInt32, count: Int) { streams[id]?.consumed += count }

    public func finish(stream id: UInt32) { streams[id]?.finished = true }

    public func reset(stream id: UInt32, code: ResetCode, reason: String) {
        streams[id]?.resets.append(code)
        streams[id]?.handler = nil
    }

    public func sendConnected(stream id: UInt32) { streams[id]?.connectedSignals += 1 }

    // MARK: TunnelDatagrams

    public func hasDatagramRoom(for size: Int) -> Bool { isOpen && datagramRoom > 0 }

    @discardableResult
    public func sendDatagram(channel: UInt32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard hasDatagramRoom(for: bytes.count) else {
            droppedDatagrams += 1
            return false
        }
        if datagramRoom != .max { datagramRoom -= 1 }
        datagrams.append((channel, Array(bytes)))
        onDatagramSent?()
        return true
    }

    public func notifyWhenDatagramRoom() { waitsForDatagramRoom = true }
}
