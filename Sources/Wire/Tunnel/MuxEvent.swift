/// What receiving yields to the shell.
public enum MuxEvent: Equatable, Sendable {
    /// The peer's HELLO. The version is not checked here: the roles decide what to accept.
    case hello(version: UInt16, body: [UInt8])
    case control([UInt8])
    /// The peer opened a stream.
    case opened(stream: UInt32, metadata: [UInt8])
    /// Stream data; counts against our receive window until reported with consumed(stream:count:).
    case data(stream: UInt32, [UInt8])
    /// An empty DATA frame without FIN: the peer's end of the stream is connected (sent by a side
    /// that dials something for the stream, when the opener asked for it; see `sendConnected`).
    case connected(stream: UInt32)
    /// The peer half-closed the stream (FIN): no more data will arrive on it.
    case finished(stream: UInt32)
    /// The peer reset the stream; it is forgotten.
    case reset(stream: UInt32, code: ResetCode, reason: String)
    /// Send credit came back after a send() that accepted less than offered.
    case writable(stream: UInt32)
    case datagram(channel: UInt32, [UInt8])
    /// Answer to our ping(token).
    case pong(UInt64)
    /// The peer is going away: it accepts no new streams; open() now returns nil.
    case goaway(code: UInt32, reason: String)
}

/// One step of receiving (`next(from:)`): an event, or stream or datagram bytes as a view into the
/// input (or the decoder's reassembly buffer), valid until the next call. The shell hands the view to
/// the next hop and copies only what that hop did not take.
public enum MuxDelivery {
    case event(MuxEvent)
    case data(stream: UInt32, UnsafeRawBufferPointer)
    case datagram(channel: UInt32, UnsafeRawBufferPointer)
}
