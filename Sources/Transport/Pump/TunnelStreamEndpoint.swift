import Wire

/// One tunnel stream as a `ByteEndpoint`.
///
/// The peer's bytes arrive as views into the tunnel's receive buffer and go straight to the other
/// side; only what it did not take is copied, into `held`, which the stream's window bounds (the
/// peer cannot send more than we granted) and the tunnel's `MemoryBudget` counts. Credit goes back
/// (`consumed`) only for bytes the other side took, so a slow reader stalls only this stream.
public final class TunnelStreamEndpoint: ByteEndpoint, TunnelStreamHandler {
    public var events: ByteEndpointEvents?
    public let tunnel: TunnelStreams
    public let stream: UInt32
    private var held: BudgetedByteQueue
    private var finished = false      // FIN received
    private var finishReported = false
    private var closed = false
    /// `held` is lent to the other side (inside `consume`): an end meanwhile releases it after.
    private var lendingHeld = false

    /// Bytes received and not yet taken by the other side.
    public var isHolding: Bool { !held.isEmpty }

    public init(tunnel: TunnelStreams, stream: UInt32) {
        self.tunnel = tunnel
        self.stream = stream
        held = BudgetedByteQueue(budget: tunnel.memoryBudget)
    }

    deinit { held.release() }

    public func start() throws(SystemError) { tunnel.attach(stream: stream, handler: self) }

    // MARK: Source

    public func tunnelStream(_ stream: UInt32, didReceive bytes: UnsafeRawBufferPointer) {
        guard !closed else { return }
        guard held.isEmpty else { return held.append(bytes) }   // the pump already waits for room
        let taken = events?.endpoint(self, didRead: bytes) ?? 0
        guard !closed else { return }
        if taken > 0 { tunnel.consumed(stream: stream, count: taken) }
        if taken < bytes.count { held.append(UnsafeRawBufferPointer(rebasing: bytes[taken...])) }
    }

    public func resumeReading() {
        var moved = 0
        while !closed && !held.isEmpty {
            lendingHeld = true
            let taken = held.consume { events?.endpoint(self, didRead: $0) ?? 0 }
            lendingHeld = false
            if taken == 0 { break }
            moved += taken
        }
        guard !closed else { return releaseHeld() }
        if moved > 0 { tunnel.consumed(stream: stream, count: moved) }
        reportFinishIfDrained()
    }

    public func tunnelStreamDidFinish(_ stream: UInt32) {
        finished = true
        reportFinishIfDrained()
    }

    private func reportFinishIfDrained() {
        guard finished, held.isEmpty, !finishReported, !closed else { return }
        finishReported = true
        events?.endpointDidFinishReading(self)
    }

    public func tunnelStreamDidConnect(_ stream: UInt32) { events?.endpointDidConnect(self) }

    // MARK: Sink

    public var writeCapacity: Int { closed ? 0 : tunnel.sendCapacity(stream: stream) }

    public func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        closed ? 0 : tunnel.send(stream: stream, bytes)
    }

    public func notifyWhenWritable() {
        if !closed { tunnel.notifyWhenWritable(stream: stream) }
    }

    public func tunnelStreamIsWritable(_ stream: UInt32) {
        if !closed { events?.endpointIsWritable(self) }
    }

    public func finishWriting() {
        if !closed { tunnel.finish(stream: stream) }
    }

    public func otherSideConnected() {
        if !closed { tunnel.sendConnected(stream: stream) }
    }

    // MARK: Ending

    /// Gives back what is held (and its charge), unless it is lent out right now.
    private func releaseHeld() {
        if !lendingHeld { held.release() }
    }

    public func tunnelStream(_ stream: UInt32, didReset code: ResetCode, reason: String) {
        guard !closed else { return }
        closed = true
        releaseHeld()
        events?.endpoint(self, didReset: code, reason: reason)
    }

    public func reset(code: ResetCode, reason: String) {
        guard !closed else { return }
        closed = true
        releaseHeld()
        tunnel.reset(stream: stream, code: code, reason: reason)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        releaseHeld()
        tunnel.detach(stream: stream)
    }
}
