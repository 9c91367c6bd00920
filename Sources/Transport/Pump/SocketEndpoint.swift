import Wire

/// A TCP socket (or one end of a socket pair) as a `ByteEndpoint`, optionally still connecting.
///
/// As a source it reads only as much as the other side takes now (`room(for:)`), so what it reads
/// is normally taken whole and never copied; as a sink it writes straight from the other side's
/// buffer and reports how much the kernel took (the other side keeps the rest). Epoll interest
/// follows from the two waits: read while not held up, write only while a writer waits for room.
public final class SocketEndpoint: ByteEndpoint, IOHandler {
    public var events: ByteEndpointEvents?
    private let socket: Socket
    private let loop: EventLoop
    /// Named in reset reasons ("the machine at 10.0.0.5:80 refused the connection").
    public var description: String
    /// Called once when connecting ends, with why when the target could not be reached.
    public var onConnectResult: ((String?) -> Void)?
    private var connecting: Bool
    private let connectTimeout: Double
    private var connectTimer: UInt64?
    /// Read but not taken by the other side (bytes handed over before start, or a short take).
    private var held = ByteQueue(retainedCapacity: BudgetedByteQueue.retainedCapacity)
    private var readEOF = false
    private var eofReported = false
    private var readPaused = false
    private var wantsWritable = false
    private var finishRequested = false
    private var wroteShutdown = false
    private var closed = false
    /// Given, or the loop's `sharedReadBuffer`: a read is handed on within the call and what is
    /// not taken is copied to `held`, so the buffer is free again when `readSocket` returns.
    private let readBuffer: UnsafeMutableRawBufferPointer

    /// How long a dial to the machine may take before it counts as unreachable (`.timeout`).
    public static let defaultConnectTimeout = 10.0

    public init(socket: Socket, loop: EventLoop, connecting: Bool, connectTimeout: Double = defaultConnectTimeout, description: String,
                readBuffer: UnsafeMutableRawBufferPointer? = nil) {
        self.socket = socket
        self.loop = loop
        self.connecting = connecting
        self.connectTimeout = connectTimeout
        self.description = description
        self.readBuffer = readBuffer ?? loop.sharedReadBuffer
    }

    /// Bytes read from the socket before this endpoint took it over (a peeked ClientHello, pipelined
    /// bytes after a SOCKS request); they go out first.
    public func deliverFirst(_ bytes: [UInt8]) { held.append(bytes) }

    public func start() throws(SystemError) {
        try loop.register(fd: socket.fd, interest: connecting ? IOInterest.write : IOInterest.read, handler: self)
        if connecting {
            connectTimer = loop.schedule(after: connectTimeout) { [weak self] in
                guard let self, self.connecting else { return }
                self.fail(.timeout, "\(self.description) did not answer within \(Int(self.connectTimeout)) s")
            }
        } else {
            socket.setNoDelay()
            if !held.isEmpty { readSocket() }
        }
    }

    public func handleIO(events mask: UInt32) {
        guard !closed else { return }
        if connecting { return connectFinished() }
        if mask & IOInterest.write != 0 && wantsWritable {
            wantsWritable = false
            events?.endpointIsWritable(self)
        }
        if !closed && !readPaused && mask & (IOInterest.read | IOInterest.error) != 0 { readSocket() }
        updateInterest()
    }

    private func connectFinished() {
        let error = socket.connectError()
        guard error == 0 else {
            return fail(.refused, "\(description) refused the connection (\(SystemError("connect", errno: error)))")
        }
        connecting = false
        if let connectTimer { loop.cancelTimer(connectTimer) }
        socket.setNoDelay()
        onConnectResult?(nil)
        onConnectResult = nil
        events?.endpointDidConnect(self)
        if finishRequested { shutdownOnce() }
        if wantsWritable && !closed {
            wantsWritable = false
            events?.endpointIsWritable(self)
        }
        if !closed { readSocket() }
        updateInterest()
    }

    // MARK: Source

    public func resumeReading() {
        guard readPaused, !closed else { return }
        readPaused = false
        readSocket()
        updateInterest()
    }

    private func readSocket() {
        guard !connecting else { return }
        while !closed {
            if !held.isEmpty {
                let taken = held.consume { events?.endpoint(self, didRead: $0) ?? 0 }
                if closed { return }
                if taken == 0 { return pause(askForRoom: false) }
                continue
            }
            if readEOF {
                if !eofReported { eofReported = true; events?.endpointDidFinishReading(self) }
                return
            }
            let room = events?.room(for: self) ?? 0
            if room == 0 { return pause(askForRoom: true) }
            let limit = min(room, readBuffer.count)
            let result: Socket.IOResult
            do {
                result = try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: readBuffer[0..<limit]))
            } catch {
                return fail(.cancelled, "\(description): \(error)")
            }
            switch result {
            case .bytes(let n):
                let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<n])
                let taken = events?.endpoint(self, didRead: bytes) ?? 0
                if closed { return }
                if taken < n {
                    held.append(UnsafeRawBufferPointer(rebasing: bytes[taken...]))
                    return pause(askForRoom: false)
                }
                if n < limit { return }  // drained; epoll says when more comes
            case .wouldBlock:
                return
            case .eof:
                readEOF = true
                updateInterest()
            }
        }
    }

    /// Stops reading until `resumeReading`. After a short take the pump has already asked the sink
    /// to say when it has room; only a read skipped for want of room asks here.
    private func pause(askForRoom: Bool) {
        readPaused = true
        if askForRoom { events?.waitForRoom(for: self) }
        updateInterest()
    }

    // MARK: Sink

    public var writeCapacity: Int { connecting || closed || finishRequested ? 0 : Int.max }

    public func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard !connecting, !closed, !finishRequested else { return 0 }
        do {
            guard case .bytes(let n) = try socket.write(bytes) else { return 0 }
            return n
        } catch {
            fail(.cancelled, "\(description): \(error)")
            return 0
        }
    }

    public func notifyWhenWritable() {
        guard !closed else { return }
        wantsWritable = true
        updateInterest()
    }

    public func finishWriting() {
        finishRequested = true
        if !connecting { shutdownOnce() }
    }

    private func shutdownOnce() {
        guard !wroteShutdown, !closed else { return }
        wroteShutdown = true
        socket.shutdownWrite()
    }

    private func updateInterest() {
        guard !closed, !connecting else { return }
        var interest: UInt32 = 0
        if !readEOF && !readPaused { interest |= IOInterest.read }
        if wantsWritable { interest |= IOInterest.write }
        loop.modify(fd: socket.fd, interest: interest)
    }

    // MARK: Ending

    public func reset(code: ResetCode, reason: String) { tearDown(abortive: true) }

    public func close() { tearDown(abortive: false) }

    /// Gives the descriptor up without closing it (to move it to another loop); nil once closed.
    public func release() -> Int32? {
        guard !closed else { return nil }
        closed = true
        if let connectTimer { loop.cancelTimer(connectTimer) }
        loop.deregister(fd: socket.fd)
        return socket.release()
    }

    private func fail(_ code: ResetCode, _ reason: String) {
        guard !closed else { return }
        if connecting { onConnectResult?(reason); onConnectResult = nil }
        tearDown(abortive: true)
        events?.endpoint(self, didReset: code, reason: reason)
    }

    private func tearDown(abortive: Bool) {
        guard !closed else { return }
        closed = true
        if let connectTimer { loop.cancelTimer(connectTimer) }
        loop.deregister(fd: socket.fd)
        if abortive { socket.abort() } else { socket.close() }
    }
}
