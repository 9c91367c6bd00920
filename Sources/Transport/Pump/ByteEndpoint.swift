import Wire

/// One side of a byte pipe: a socket, a tunnel stream, a userspace TCP flow. A `Pump` joins two
/// of them; each endpoint is both the source of one direction and the sink of the other.
///
/// Why a protocol: the relay, the share agent and the connect side all move bytes between two
/// such ends under credit, and used to do it three times over with their own pause flags. The
/// endpoint knows its own I/O (epoll interest, stream credit, stack windows); the pump knows only
/// the rules that join two of them (SwiftNIO's channel/handler split, at this project's size).
///
/// Flow control, both ways: a source reads no more than `room(for:)` says the other side takes
/// now, and a source whose bytes were pushed at it (a tunnel stream) keeps what the sink did not
/// take and returns credit only for what it took. A source that is held up waits for
/// `resumeReading`. All calls happen on the endpoint's loop.
public protocol ByteEndpoint: AnyObject {
    /// The pump; set before `start`, cleared when the pump ends (it breaks the reference cycle).
    var events: ByteEndpointEvents? { get set }
    func start() throws(SystemError)

    // As a sink (the other side's bytes go out here).
    /// How many bytes `write` would take now. A plain query: it subscribes to nothing.
    var writeCapacity: Int { get }
    /// Takes what fits now; returns how many bytes it took.
    func write(_ bytes: UnsafeRawBufferPointer) -> Int
    /// Asks for one `endpointIsWritable` once writing may make progress again.
    func notifyWhenWritable()
    /// Half-closes this endpoint's outgoing direction (FIN) after everything written.
    func finishWriting()
    /// The other side says it is connected (a tunnel stream forwards it as its `connected` signal).
    func otherSideConnected()

    // As a source.
    /// The other side has room again: deliver what is held, then read on.
    func resumeReading()

    /// Aborts both directions (RST / stream reset); no events follow.
    func reset(code: ResetCode, reason: String)
    /// Releases the endpoint after both directions finished cleanly.
    func close()
}

public extension ByteEndpoint {
    func otherSideConnected() {}
}

/// What an endpoint tells the pump.
public protocol ByteEndpointEvents: AnyObject {
    /// How many bytes the other side would take now (a plain query).
    func room(for reader: ByteEndpoint) -> Int
    /// The reader found no room: it hears `resumeReading` once there is.
    func waitForRoom(for reader: ByteEndpoint)
    /// Bytes the endpoint read, lent for the call; returns how many the other side took. The
    /// endpoint keeps the rest and waits for `resumeReading`.
    func endpoint(_ reader: ByteEndpoint, didRead bytes: UnsafeRawBufferPointer) -> Int
    /// The endpoint's incoming direction ended (EOF / FIN) and everything read was delivered.
    func endpointDidFinishReading(_ reader: ByteEndpoint)
    /// A sink that was asked (`notifyWhenWritable`) can take bytes again.
    func endpointIsWritable(_ writer: ByteEndpoint)
    /// The endpoint failed or its peer reset it; it has already torn itself down.
    func endpoint(_ endpoint: ByteEndpoint, didReset code: ResetCode, reason: String)
    /// The endpoint's far end is connected (a dial completed, a `connected` signal arrived).
    func endpointDidConnect(_ endpoint: ByteEndpoint)
}
