// Sans-I/O stream multiplexer over one tunnel connection: bytes in, events out.
// Frames to send accumulate in an outbound buffer the I/O shell drains with takeOutbound().
// Rules (stream id parity, lifecycle, flow control) are specified in docs/PROTOCOL.md.

public struct StreamMux: Sendable {
    public let role: MuxRole
    public let config: MuxConfig

    private struct StreamState: Sendable {
        /// Bytes we may still send (the peer's remaining receive window as we see it).
        var sendCredit: Int
        /// Bytes the peer may still send before it must wait for WINDOW.
        var recvWindow: Int
        /// Received but not yet reported by consumed().
        var unconsumed = 0
        /// Consumed but not yet returned to the peer with WINDOW.
        var unannounced = 0
        var sentFin = false
        var receivedFin = false
        /// A send() was cut short; announce .writable when credit returns.
        var wantsWritable = false
    }

    private var decoder: FrameDecoder
    private var streams: [UInt32: StreamState] = [:]
    /// Next id open() hands out. UInt64 so exhaustion of the 32-bit space is detectable.
    private var nextLocalStream: UInt64
    /// Highest id the peer has opened; peer ids must increase (so old ids are never reused).
    private var highestPeerStream: UInt32 = 0
    private var outbound: [UInt8] = []
    /// Events a frame produced after the one `next(from:)` returned (a FIN after its DATA).
    private var deferred: [MuxEvent] = []
    private var failure: MuxError?
    public private(set) var helloReceived = false
    public private(set) var goawayReceived = false
    public private(set) var goawaySent = false
    /// Datagrams sendDatagram() dropped because the outbound buffer was over datagramQueueLimit.
    public private(set) var droppedDatagrams = 0
    /// The receive window the peer announced (in its HELLO): the send credit of each new stream.
    public private(set) var peerWindow: UInt32

    public init(role: MuxRole, config: MuxConfig = .init()) {
        precondition(config.initialWindow > 0, "MuxConfig.initialWindow must be > 0")
        precondition(config.maxDataFrame > 0 && config.maxFramePayload > 0, "MuxConfig frame sizes must be > 0")
        self.role = role
        self.config = config
        self.decoder = FrameDecoder(maxPayload: config.maxFramePayload)
        self.nextLocalStream = role == .dialer ? 1 : 2
        self.peerWindow = config.initialWindow
    }

    /// Records the peer's announced receive window; streams opened from now on start with that
    /// much send credit. Call it when the peer's HELLO arrives, before any stream opens.
    public mutating func setPeerWindow(_ window: UInt32) {
        peerWindow = window
    }

    // MARK: Introspection

    public var outboundCount: Int { outbound.count }
    public var openStreamCount: Int { streams.count }

    /// Everything queued for the wire, in order; the buffer is then empty.
    public mutating func takeOutbound() -> [UInt8] {
        defer { outbound = [] }
        return outbound
    }

    /// Allocation-free variant of takeOutbound(): `buffer` is cleared (keeping its capacity)
    /// and swapped with the outbound buffer, so two buffers can be recycled forever.
    public mutating func swapOutbound(_ buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        swap(&buffer, &outbound)
    }

    /// Bytes send() would accept now on `stream`; 0 for unknown streams and after finish().
    public func sendCredit(stream: UInt32) -> Int {
        guard let s = streams[stream], !s.sentFin else { return 0 }
        return s.sendCredit
    }

    public func isOpen(stream: UInt32) -> Bool { streams[stream] != nil }

    // MARK: Receiving

    /// Decodes the next event from `input` (advanced past what was used); nil once `input` is used
    /// up (a trailing partial frame is kept for the next input). DATA and DATAGRAM payloads come as
    /// views, so the shell can pass them on without a copy. Call until nil before reusing `input`'s
    /// memory. A throw means the connection is broken and must be closed; later calls throw again.
    public mutating func next(from input: inout UnsafeRawBufferPointer) throws(MuxError) -> MuxDelivery? {
        if let failure { throw failure }
        if !deferred.isEmpty { return .event(deferred.removeFirst()) }
        do throws(MuxError) {
            while true {
                let view: FrameView?
                do { view = try decoder.nextView(from: &input, streamingData: true) } catch { throw MuxError.frame(error) }
                guard let view else { return nil }
                if let delivery = try handle(view) { return delivery }
                if !deferred.isEmpty { return .event(deferred.removeFirst()) }
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Feeds bytes read from the connection; returns the events they complete, payloads copied
    /// (the owning form, for tests and tools; the shell uses `next(from:)`).
    public mutating func receive(_ bytes: UnsafeRawBufferPointer) throws(MuxError) -> [MuxEvent] {
        var input = bytes
        var events: [MuxEvent] = []
        while let delivery = try next(from: &input) {
            switch delivery {
            case .event(let event): events.append(event)
            case .data(let stream, let view): events.append(.data(stream: stream, Array(view)))
            case .datagram(let channel, let view): events.append(.datagram(channel: channel, Array(view)))
            }
        }
        return events
    }

    public mutating func receive(_ bytes: [UInt8]) throws(MuxError) -> [MuxEvent] {
        let result = bytes.withUnsafeBytes { b in Result { () throws(MuxError) -> [MuxEvent] in try receive(b) } }
        return try result.get()
    }

    private func isLocalParity(_ id: UInt32) -> Bool {
        (id & 1 == 1) == (role == .dialer)
    }

    /// True if the id belongs to a stream that existed at some point (now closed or reset).
    private func wasEverOpened(_ id: UInt32) -> Bool {
        isLocalParity(id) ? UInt64(id) < nextLocalStream : id <= highestPeerStream
    }

    /// A stream frame for a stream not in the table: ignore it if the stream existed
    /// (a race with a reset or close), otherwise the peer invented the id.
    private func checkUnknown(_ type: FrameType, _ stream: UInt32) throws(MuxError) {
        if !wasEverOpened(stream) {
            throw .protocolViolation("\(type) for stream \(stream), which was never opened")
        }
    }

    /// Applies one frame: returns its payload delivery (DATA, DATAGRAM) or queues its events in `deferred`.
    private mutating func handle(_ view: FrameView) throws(MuxError) -> MuxDelivery? {
        guard helloReceived || view.type == .hello else {
            throw .protocolViolation("first frame must be HELLO, got \(view.type)")
        }
        let id = view.stream
        switch view.type {
        case .data:
            // DATA comes in pieces as its payload arrives: the whole frame is checked against the
            // window at its first piece, each piece is delivered, FIN applies at the last one.
            // Pieces of a stream that is gone (reset meanwhile) are dropped.
            if view.isFirstPiece {
                guard var s = streams[id] else { try checkUnknown(view.type, id); return nil }
                guard !s.receivedFin else { throw .protocolViolation("DATA on stream \(id) after its FIN") }
                guard view.length <= s.recvWindow else { throw .windowExceeded(stream: id) }
                s.recvWindow -= view.length
                s.unconsumed += view.length
                streams[id] = s
            }
            guard var s = streams[id] else { return nil }
            if view.isLastPiece {
                if view.length == 0 && !view.isFin { deferred.append(.connected(stream: id)) }
                if view.isFin {
                    s.receivedFin = true
                    deferred.append(.finished(stream: id))
                    streams[id] = s.sentFin ? nil : s
                }
            }
            return view.payload.isEmpty ? nil : .data(stream: id, view.payload)

        case .datagram:
            return .datagram(channel: id, view.payload)

        case .window:
            guard var s = streams[id] else { try checkUnknown(view.type, id); return nil }
            let credit = s.sendCredit + Int(view.payload.bigEndianUInt32(at: 0))
            guard credit <= Int(UInt32.max) else {
                throw .protocolViolation("WINDOW on stream \(id) raises the send credit to \(credit), beyond 2^32-1")
            }
            s.sendCredit = credit
            if s.wantsWritable && !s.sentFin {
                s.wantsWritable = false
                deferred.append(.writable(stream: id))
            }
            streams[id] = s
            return nil

        case .hello, .control, .open, .reset, .ping, .goaway:
            try handleControl(view.frame)
            return nil
        }
    }

    /// The rare frames, decoded into an owning `Frame`.
    private mutating func handleControl(_ frame: Frame) throws(MuxError) {
        let id = frame.stream
        switch frame.type {
        case .hello:
            guard !helloReceived else { throw .protocolViolation("second HELLO on the connection") }
            helloReceived = true
            let (version, body) = frame.helloFields! // validated by the decoder
            deferred.append(.hello(version: version, body: body))

        case .control:
            deferred.append(.control(frame.payload))

        case .open:
            guard !isLocalParity(id) else {
                throw .protocolViolation("peer opened stream \(id), an id of our parity (\(role == .dialer ? "odd" : "even"))")
            }
            guard id > highestPeerStream else {
                throw .protocolViolation("peer reused or went back to stream id \(id) (highest so far \(highestPeerStream))")
            }
            highestPeerStream = id
            if streams.count >= config.maxStreams || goawaySent {
                queue(.reset(stream: id, code: .refused,
                             reason: goawaySent ? "going away" : "too many streams (limit \(config.maxStreams))"))
                return
            }
            streams[id] = StreamState(sendCredit: Int(peerWindow), recvWindow: Int(config.initialWindow))
            deferred.append(.opened(stream: id, metadata: frame.payload))

        case .reset:
            guard streams.removeValue(forKey: id) != nil else { return try checkUnknown(frame.type, id) }
            let (code, reason) = frame.codeAndReason!
            deferred.append(.reset(stream: id, code: ResetCode(rawValue: code), reason: reason))

        case .ping:
            if frame.isAck {
                deferred.append(.pong(frame.pingToken!))
            } else {
                queue(.ping(frame.pingToken!, ack: true))
            }

        case .goaway:
            goawayReceived = true
            let (code, reason) = frame.codeAndReason!
            deferred.append(.goaway(code: code, reason: reason))

        case .data, .window, .datagram:
            break   // handled on the view, without a copy
        }
    }

    // MARK: Sending

    private mutating func queue(_ frame: Frame) {
        FrameEncoder.append(frame, to: &outbound)
    }

    private func checkedPayload(_ what: String, _ count: Int) {
        precondition(count <= config.maxFramePayload,
                     "\(what) payload of \(count) bytes exceeds maxFramePayload \(config.maxFramePayload)")
    }

    /// Queues HELLO with TunnelProtocol.version and the roles' body (JSON). Send it first.
    public mutating func sendHello(body: [UInt8]) {
        checkedPayload("HELLO", body.count + 6)
        queue(.hello(body: body))
    }

    public mutating func sendControl(_ payload: [UInt8]) {
        checkedPayload("CONTROL", payload.count)
        queue(.control(payload))
    }

    /// Opens a stream; returns its id, or nil when maxStreams streams are open, the peer sent
    /// GOAWAY, the id space is exhausted, or the metadata does not fit one frame.
    public mutating func open(metadata: [UInt8]) -> UInt32? {
        guard streams.count < config.maxStreams, !goawayReceived,
              nextLocalStream <= UInt64(UInt32.max),
              metadata.count <= config.maxFramePayload else { return nil }
        let id = UInt32(nextLocalStream)
        nextLocalStream += 2
        streams[id] = StreamState(sendCredit: Int(peerWindow), recvWindow: Int(config.initialWindow))
        queue(.open(stream: id, metadata: metadata))
        return id
    }

    /// Queues up to sendCredit(stream:) bytes as DATA frames of at most maxDataFrame bytes.
    /// Returns the bytes accepted; if fewer than offered, a later .writable(stream) announces credit.
    public mutating func send(stream: UInt32, _ bytes: UnsafeRawBufferPointer) -> Int {
        guard var s = streams[stream], !s.sentFin, !bytes.isEmpty else { return 0 }
        let n = min(bytes.count, s.sendCredit)
        let chunk = max(1, min(config.maxDataFrame, config.maxFramePayload))
        var offset = 0
        while offset < n {
            let len = min(chunk, n - offset)
            FrameEncoder.appendHeader(type: .data, flags: 0, stream: stream, length: len, to: &outbound)
            outbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + len]))
            offset += len
        }
        s.sendCredit -= n
        // Only the latest call matters: if it took everything, nothing is waiting for credit.
        s.wantsWritable = n < bytes.count
        streams[stream] = s
        return n
    }

    /// Asks for a .writable(stream) event when credit next arrives (for a sender that found none
    /// and did not call send()).
    public mutating func notifyWhenWritable(stream: UInt32) {
        guard var s = streams[stream], !s.sentFin else { return }
        s.wantsWritable = true
        streams[stream] = s
    }

    public mutating func send(stream: UInt32, _ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { send(stream: stream, $0) }
    }

    /// Tells the peer that our end of the stream is connected: an empty DATA frame without FIN,
    /// which carries no bytes and costs no credit. Before our FIN only.
    public mutating func sendConnected(stream: UInt32) {
        guard let s = streams[stream], !s.sentFin else { return }
        queue(.data(stream: stream, [], fin: false))
    }

    /// Half-closes our direction (empty DATA with FIN). The stream is forgotten once both directions finished.
    public mutating func finish(stream: UInt32) {
        guard var s = streams[stream], !s.sentFin else { return }
        queue(.data(stream: stream, [], fin: true))
        s.sentFin = true
        s.wantsWritable = false
        streams[stream] = s.receivedFin ? nil : s
    }

    /// Aborts the stream in both directions and forgets it; late frames for it are ignored.
    public mutating func reset(stream: UInt32, code: ResetCode, reason: String) {
        guard streams.removeValue(forKey: stream) != nil else { return }
        queue(.reset(stream: stream, code: code, reason: reason, maxPayload: config.maxFramePayload))
    }

    /// Reports that the application delivered `count` received bytes of `stream`. Once the
    /// consumed-but-unannounced amount reaches initialWindow/4 a WINDOW update is queued.
    /// Counts beyond what was received are clamped (the window never grows past initialWindow).
    public mutating func consumed(stream: UInt32, count: Int) {
        guard count > 0, var s = streams[stream] else { return }
        let c = min(count, s.unconsumed)
        s.unconsumed -= c
        s.unannounced += c
        let threshold = max(1, Int(config.initialWindow) / 4)
        if s.unannounced >= threshold && !s.receivedFin {
            queue(.window(stream: stream, increment: UInt32(s.unannounced)))
            s.recvWindow += s.unannounced
            s.unannounced = 0
        }
        streams[stream] = s
    }

    /// Queues one datagram on `channel`. Returns false (and counts it in droppedDatagrams) when
    /// the outbound buffer would exceed datagramQueueLimit or the datagram exceeds maxFramePayload:
    /// datagrams are unreliable, and dropping beats queueing behind bulk stream data.
    @discardableResult
    public mutating func sendDatagram(channel: UInt32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count <= config.maxFramePayload,
              outbound.count + TunnelProtocol.headerSize + bytes.count <= config.datagramQueueLimit else {
            droppedDatagrams += 1
            return false
        }
        FrameEncoder.appendHeader(type: .datagram, flags: 0, stream: channel, length: bytes.count, to: &outbound)
        outbound.append(contentsOf: bytes)
        return true
    }

    @discardableResult
    public mutating func sendDatagram(channel: UInt32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { sendDatagram(channel: channel, $0) }
    }

    /// Queues a PING; the peer's answer arrives as .pong(token).
    public mutating func ping(_ token: UInt64) {
        queue(.ping(token))
    }

    /// Tells the peer we are going away: from now on its OPENs are refused with RESET(refused).
    public mutating func goaway(code: UInt32, reason: String) {
        goawaySent = true
        queue(.goaway(code: code, reason: reason, maxPayload: config.maxFramePayload))
    }
}
