import Wire

public protocol TunnelConnectionDelegate: AnyObject {
    func tunnelDidConnect(_ tunnel: TunnelConnection)
    /// The peer's HELLO; `body` is nil when it is not valid JSON. The tunnel has already applied
    /// the peer's announced window.
    func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?)
    func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8])
    /// The peer opened a stream: attach a handler with `attach`, or `reset` it.
    func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8])
    /// One datagram, as a view into the receive buffer valid only during the call.
    func tunnel(_ tunnel: TunnelConnection, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32)
    func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?)
}

public extension TunnelConnectionDelegate {
    func tunnel(_ tunnel: TunnelConnection, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32) {}
}

/// The I/O shell around `StreamMux`: TLS bytes in, events to stream handlers; frames out through TLS.
/// Sends keepalive pings and closes a connection whose peer has gone silent. Confined to its loop.
public final class TunnelConnection: TLSConnectionDelegate, TunnelStreams, TunnelDatagrams {
    /// A PING every `interval` seconds; a connection that received nothing (no frame of any kind,
    /// pongs included) for `timeout` seconds is closed: the check runs when the silence reaches
    /// the timeout, not only at the next ping. A frozen or cut-off peer is so noticed within about
    /// `timeout`: the relay then treats the share as reconnecting (browsers get a 502 at once
    /// instead of hanging) and the agent or client dials again.
    public struct Keepalive: Sendable {
        public var interval: Double
        public var timeout: Double
        public init(interval: Double = 5, timeout: Double = 15) { self.interval = interval; self.timeout = timeout }

        public enum Step: Equatable {
            /// Send a PING and look again after this many seconds.
            case ping(checkAgainIn: Double)
            /// The peer has been silent too long: close the connection.
            case close
        }

        /// What the timer does when it finds the peer silent for `silentFor` seconds: the next
        /// look is at the next ping or when the silence would reach the timeout, whichever is first.
        public func step(silentFor: Double) -> Step {
            silentFor >= timeout ? .close : .ping(checkAgainIn: min(interval, timeout - silentFor))
        }
    }

    public let tls: TLSConnection
    /// Unsent bytes beyond which a peer that does not read is disconnected.
    static let maxBacklog = 32 << 20
    public var loop: EventLoop { tls.loop }
    public weak var delegate: TunnelConnectionDelegate?
    /// Free for the owner (the role) to hang its per-connection state on.
    public var context: AnyObject?
    /// Bytes held for slow readers of this connection's streams count here; while it is
    /// exhausted `open` refuses new streams (see `MemoryBudget`).
    public var memoryBudget: MemoryBudget?
    /// CONTROL frames received so far (the relay closes a connection that sends none in time).
    public private(set) var controlMessagesReceived = 0

    private var mux: StreamMux
    private let config: MuxConfig
    private var handlers: [UInt32: TunnelStreamHandler] = [:]
    private var blockedOnTLS = Set<UInt32>()
    private var keepalive: Keepalive
    private var keepaliveTimer: UInt64?
    private var lastReceive = MonotonicClock.now()
    private var closed = false
    private var flushScheduled = false
    private var outboundScratch: [UInt8] = []

    public init(tls: TLSConnection, role: MuxRole, config: MuxConfig = MuxConfig(), keepalive: Keepalive = Keepalive()) {
        self.tls = tls
        self.mux = StreamMux(role: role, config: config)
        self.config = config
        self.keepalive = keepalive
        tls.delegate = self
    }

    public var isOpen: Bool { !closed && tls.isOpen }
    /// Datagrams dropped because the outbound backlog was over `MuxConfig.datagramQueueLimit`.
    public var droppedDatagrams: Int { mux.droppedDatagrams + droppedForBacklog }
    private var droppedForBacklog = 0
    /// Called (once per `notifyWhenDatagramRoom`) when the backlog has drained below the TLS low
    /// water mark: packet pumps that stopped reading resume.
    public var onDatagramRoom: (() -> Void)?
    private var datagramWaiter = false
    private var migrating = false
    private var drainCheckScheduled = false

    public func start() throws(SystemError) {
        try tls.start()
    }

    // MARK: Sending

    /// Sends HELLO, announcing this side's stream window.
    public func sendHello(_ hello: HelloBody) {
        var hello = hello
        hello.window = config.initialWindow
        mux.sendHello(body: hello.encoded())
        flush()
    }
    public func sendControl(_ payload: [UInt8]) { mux.sendControl(payload); flush() }

    /// Opens a stream; a nil handler means one attaches itself (`attach`) before the loop turns.
    /// Nil when the mux refuses (stream limit, GOAWAY) or the memory budget is exhausted.
    public func open(metadata: [UInt8], handler: TunnelStreamHandler?) -> UInt32? {
        if memoryBudget?.isExhausted == true { return nil }
        guard let stream = mux.open(metadata: metadata) else { return nil }
        if let handler { handlers[stream] = handler }
        flush()
        return stream
    }

    public func attach(stream: UInt32, handler: TunnelStreamHandler) { handlers[stream] = handler }

    /// How many bytes `send` would take now: the stream's credit, limited by the TLS backlog.
    public func sendCapacity(stream: UInt32) -> Int {
        guard isOpen, backlog < TLSConnection.lowWater else { return 0 }
        return min(mux.sendCredit(stream: stream), TLSConnection.lowWater - backlog)
    }

    /// The stream's handler hears `tunnelStreamIsWritable` once: when credit comes back (WINDOW), or
    /// when the TLS backlog drained below its low-water mark, whichever held the stream up.
    public func notifyWhenWritable(stream: UInt32) {
        guard isOpen, mux.isOpen(stream: stream) else { return }
        if mux.sendCredit(stream: stream) == 0 { return mux.notifyWhenWritable(stream: stream) }
        blockedOnTLS.insert(stream)
        // Room may already be there (the flush at the end of this turn checks), or come with a drain.
        if backlog < TLSConnection.lowWater && !migrating && !drainCheckScheduled {
            drainCheckScheduled = true
            loop.atEndOfTurn { [weak self] in
                guard let self else { return }
                self.drainCheckScheduled = false
                if !self.migrating { self.wakeStreamsIfTLSDrained() }
            }
        }
    }

    @discardableResult
    public func send(stream: UInt32, _ bytes: UnsafeRawBufferPointer) -> Int {
        let capacity = sendCapacity(stream: stream)
        guard capacity > 0 else { return 0 }
        let taken = mux.send(stream: stream, UnsafeRawBufferPointer(rebasing: bytes[0..<min(capacity, bytes.count)]))
        flush()
        return taken
    }

    public func finish(stream: UInt32) { mux.finish(stream: stream); flush() }

    /// Tells the peer our end of `stream` is connected (see `MuxEvent.connected`).
    public func sendConnected(stream: UInt32) { mux.sendConnected(stream: stream); flush() }

    public func reset(stream: UInt32, code: ResetCode, reason: String) {
        handlers[stream] = nil
        blockedOnTLS.remove(stream)
        mux.reset(stream: stream, code: code, reason: reason)
        flush()
    }

    public func consumed(stream: UInt32, count: Int) { mux.consumed(stream: stream, count: count); flush() }

    /// Forgets the handler of a finished stream (both directions done).
    public func detach(stream: UInt32) { handlers[stream] = nil; blockedOnTLS.remove(stream) }

    /// Sends one datagram, or drops it (returns false, counted) when the bytes already waiting to
    /// be encrypted — stream data included — exceed the datagram limit: datagrams never queue
    /// without bound behind a slow connection, and never hold up streams.
    @discardableResult
    public func sendDatagram(channel: UInt32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard hasDatagramRoom(for: bytes.count) else {
            droppedForBacklog += 1
            return false
        }
        let queued = mux.sendDatagram(channel: channel, bytes)
        flush()
        return queued
    }

    /// Whether a datagram of `size` bytes would be queued now.
    public func hasDatagramRoom(for size: Int) -> Bool {
        isOpen && backlog + size + TunnelProtocol.headerSize <= config.datagramQueueLimit
    }

    /// Asks for one `onDatagramRoom` call once the backlog has drained.
    public func notifyWhenDatagramRoom() { datagramWaiter = true }

    private func wakeDatagramWaiter() {
        guard datagramWaiter, backlog < min(TLSConnection.lowWater, config.datagramQueueLimit / 2) else { return }
        datagramWaiter = false
        onDatagramRoom?()
    }

    /// Moves the connection to another event loop at the end of this turn (after what is queued
    /// has been written); `then` runs on `target` before anything else touches the connection
    /// there. The relay uses it to put a connect client on its share's loop.
    public func migrate(to target: EventLoop, then: @escaping () -> Void) {
        migrating = true
        flushScheduled = true   // no flush closure may be queued on the old loop from now on
        loop.atEndOfTurn { [self] in
            flushScheduled = false
            flushNow()
            flushScheduled = true
            if let keepaliveTimer { loop.cancelTimer(keepaliveTimer) }
            keepaliveTimer = nil
            tls.migrate(to: target) { [self] in
                migrating = false
                flushScheduled = false
                if !closed { scheduleKeepalive() }
                then()
                flush()
                // Streams that asked for room while the connection was between loops.
                wakeStreamsIfTLSDrained()
            }
        }
    }

    public func goaway(code: UInt32, reason: String) {
        mux.goaway(code: code, reason: reason)
        closeAfterFlushing()
    }

    public func close() { tls.close() }

    /// Sends everything queued, then closes.
    public func closeAfterFlushing() {
        flushNow()
        tls.closeAfterFlushing()
    }

    /// Frames queued during one loop turn go out together at its end: one TLS write (and one
    /// system call) for what many streams produced, instead of one each.
    private func flush() {
        guard !flushScheduled, mux.outboundCount > 0 else { return }
        flushScheduled = true
        loop.atEndOfTurn { [weak self] in self?.flushNow() }
    }

    private func flushNow() {
        flushScheduled = false
        guard mux.outboundCount > 0, !closed else { return }
        mux.swapOutbound(&outboundScratch)
        tls.write(outboundScratch)
        outboundScratch.removeAll(keepingCapacity: true)
        // Streams that found the backlog full may go on if the socket took it all at once.
        wakeStreamsIfTLSDrained()
        wakeDatagramWaiter()
    }

    /// Streams held up by the TLS backlog hear `tunnelStreamIsWritable` once it is below the low-water mark.
    private func wakeStreamsIfTLSDrained() {
        if !blockedOnTLS.isEmpty && backlog < TLSConnection.lowWater { tlsDidDrain(tls) }
    }

    /// Bytes waiting to be encrypted: in the mux's queue and in the TLS connection's.
    private var backlog: Int { mux.outboundCount + tls.pendingOutbound }

    // MARK: TLSConnectionDelegate

    public func tlsDidHandshake(_ connection: TLSConnection) {
        scheduleKeepalive()
        delegate?.tunnelDidConnect(self)
    }

    public func tls(_ connection: TLSConnection, didReceive bytes: UnsafeRawBufferPointer) {
        lastReceive = MonotonicClock.now()
        // Pings and refusals are answered automatically; a peer that sends but never reads would
        // grow our queue without bound, so it loses its connection instead.
        if tls.pendingOutbound > TunnelConnection.maxBacklog {
            closed = true
            tls.close()
            return
        }
        // Payloads are views into `bytes` (TLS's read buffer) or the mux's reassembly buffer; each
        // is handed on before the next is decoded, so nothing is copied on the way in.
        var input = bytes
        while !closed {
            let delivery: MuxDelivery?
            do {
                delivery = try mux.next(from: &input)
            } catch {
                // A malformed frame ends this one connection, never the process.
                closed = true
                tls.close()
                return
            }
            switch delivery {
            case nil:
                flush()
                return
            case .event(let event)?:
                dispatch(event)
            case .data(let stream, let payload)?:
                if let handler = handlers[stream] {
                    handler.tunnelStream(stream, didReceive: payload)
                } else {
                    mux.consumed(stream: stream, count: payload.count)
                }
            case .datagram(let channel, let payload)?:
                delegate?.tunnel(self, didReceiveDatagram: payload, channel: channel)
            }
        }
    }

    private func dispatch(_ event: MuxEvent) {
        switch event {
        case .hello(let version, let body):
            let hello = HelloBody.decode(body)
            if let window = hello?.window {
                guard HelloBody.windowRange.contains(window) else {
                    closed = true
                    return tls.close()
                }
                mux.setPeerWindow(window)
            }
            delegate?.tunnel(self, didReceiveHello: version, body: hello)
        case .control(let payload):
            controlMessagesReceived += 1
            delegate?.tunnel(self, didReceiveControl: payload)
        case .opened(let stream, let metadata):
            delegate?.tunnel(self, didOpen: stream, metadata: metadata)
        case .data, .datagram:
            break   // delivered as views by `tls(_:didReceive:)`
        case .finished(let stream):
            handlers[stream]?.tunnelStreamDidFinish(stream)
        case .connected(let stream):
            handlers[stream]?.tunnelStreamDidConnect(stream)
        case .reset(let stream, let code, let reason):
            let handler = handlers.removeValue(forKey: stream)
            blockedOnTLS.remove(stream)
            handler?.tunnelStream(stream, didReset: code, reason: reason)
        case .writable(let stream):
            handlers[stream]?.tunnelStreamIsWritable(stream)
        case .pong:
            break
        case .goaway:
            closeAfterFlushing()
        }
    }

    public func tlsDidDrain(_ connection: TLSConnection) {
        wakeDatagramWaiter()
        guard !blockedOnTLS.isEmpty else { return }
        let waiting = blockedOnTLS
        blockedOnTLS.removeAll()
        for stream in waiting { handlers[stream]?.tunnelStreamIsWritable(stream) }
    }

    public func tlsDidClose(_ connection: TLSConnection, error: Error?) {
        closed = true
        if let keepaliveTimer { loop.cancelTimer(keepaliveTimer) }
        let all = handlers
        handlers.removeAll()
        for (stream, handler) in all { handler.tunnelStream(stream, didReset: .cancelled, reason: "tunnel connection closed") }
        delegate?.tunnelDidClose(self, error: error)
    }

    // MARK: Keepalive

    private func scheduleKeepalive(after delay: Double? = nil) {
        keepaliveTimer = loop.schedule(after: delay ?? keepalive.interval) { [weak self] in
            guard let self, !self.closed else { return }
            switch self.keepalive.step(silentFor: MonotonicClock.now() - self.lastReceive) {
            case .close:
                self.tls.close()
            case .ping(let checkAgainIn):
                self.mux.ping(UInt64(MonotonicClock.now() * 1e6))
                self.flush()
                self.scheduleKeepalive(after: checkAgainIn)
            }
        }
    }
}
