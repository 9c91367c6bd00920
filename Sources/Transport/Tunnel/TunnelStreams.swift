import Wire

/// One end of a stream carried by a tunnel connection.
public protocol TunnelStreamHandler: AnyObject {
    /// Bytes from the peer, as a view into the tunnel's receive buffer that is valid only during
    /// the call: take what the next hop accepts and copy only the rest. The handler calls
    /// `consumed(stream:count:)` once it has delivered them (that returns the peer's credit).
    func tunnelStream(_ stream: UInt32, didReceive bytes: UnsafeRawBufferPointer)
    func tunnelStreamDidFinish(_ stream: UInt32)
    func tunnelStream(_ stream: UInt32, didReset code: ResetCode, reason: String)
    /// The stream can take bytes again, once after each `notifyWhenWritable(stream:)`.
    func tunnelStreamIsWritable(_ stream: UInt32)
    /// The peer's end of the stream is connected (`sendConnected`); most handlers ignore it.
    func tunnelStreamDidConnect(_ stream: UInt32)
}

public extension TunnelStreamHandler {
    func tunnelStreamDidConnect(_ stream: UInt32) {}
}

/// What a stream's user needs from the tunnel that carries it. `TunnelConnection` is the real one;
/// tests drive stream users (the pump's tunnel endpoint, the relay's HTTP proxy) with a fake.
public protocol TunnelStreams: AnyObject {
    var loop: EventLoop { get }
    var isOpen: Bool { get }
    /// Opens a stream; a nil handler means one attaches itself (`attach`) before the loop turns.
    func open(metadata: [UInt8], handler: TunnelStreamHandler?) -> UInt32?
    func attach(stream: UInt32, handler: TunnelStreamHandler)
    /// Forgets the handler of a finished stream (both directions done).
    func detach(stream: UInt32)
    /// How many bytes `send` would take now. A plain query: it subscribes to nothing.
    func sendCapacity(stream: UInt32) -> Int
    /// Asks for one `tunnelStreamIsWritable` once `sendCapacity` is (or may be) non-zero again.
    func notifyWhenWritable(stream: UInt32)
    /// Queues what fits (at most `sendCapacity`); returns how many bytes were taken.
    @discardableResult
    func send(stream: UInt32, _ bytes: UnsafeRawBufferPointer) -> Int
    /// The handler delivered `count` received bytes to the next hop: the peer may send that many more.
    func consumed(stream: UInt32, count: Int)
    /// Half-closes our direction (FIN).
    func finish(stream: UInt32)
    func reset(stream: UInt32, code: ResetCode, reason: String)
    /// Tells the peer our end of `stream` is connected (see `MuxEvent.connected`).
    func sendConnected(stream: UInt32)
    /// Where stream endpoints charge the bytes they hold for slow readers (nil: not counted).
    var memoryBudget: MemoryBudget? { get }
}

public extension TunnelStreams {
    var memoryBudget: MemoryBudget? { nil }
}
