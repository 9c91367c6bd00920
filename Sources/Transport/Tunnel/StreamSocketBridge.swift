import Wire

/// Joins one tunnel stream to one TCP socket, with backpressure both ways:
/// the socket is read only while the stream has credit, and stream data is acknowledged
/// (`consumed`) only once the socket has taken it. Confined to the tunnel's loop.
public final class StreamSocketBridge: IOHandler, TunnelStreamHandler {
    public let stream: UInt32
    private let tunnel: TunnelConnection
    private let socket: Socket
    private var loop: EventLoop { tunnel.loop }
    private var toSocket = SocketOutbox()
    private var toStream = ByteQueue()   // bytes handed over before the bridge started (e.g. a peeked ClientHello)
    private var connecting: Bool
    private var connectTimer: UInt64?
    private var socketEOF = false       // socket → stream direction done
    private var streamFinished = false  // stream → socket direction done (after the queue drains)
    private var wroteShutdown = false
    private var closed = false
    private var readPaused = false
    private let readBuffer: UnsafeMutableRawBufferPointer
    /// Called once, with a description when the target could not be reached.
    public var onConnectResult: ((String?) -> Void)?
    public var onClose: (() -> Void)?
    public var targetDescription = "the target"

    public init(tunnel: TunnelConnection, stream: UInt32, socket: Socket, connecting: Bool) {
        self.tunnel = tunnel
        self.stream = stream
        self.socket = socket
        self.connecting = connecting
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
    }

    deinit { readBuffer.deallocate() }

    /// Queues bytes that were read from the socket before the bridge took it over.
    public func sendFirst(_ bytes: [UInt8]) { toStream.append(bytes) }

    public func start(connectTimeout: Double = 10) throws(SystemError) {
        tunnel.attach(stream: stream, handler: self)
        try loop.register(fd: socket.fd, interest: connecting ? IOInterest.write : IOInterest.read, handler: self)
        if connecting {
            connectTimer = loop.schedule(after: connectTimeout) { [weak self] in
                guard let self, self.connecting else { return }
                self.abort(code: .timeout, reason: "\(self.targetDescription) did not answer within \(Int(connectTimeout)) s")
            }
        } else {
            socket.setNoDelay()
            if !toStream.isEmpty { readSocket() }
        }
    }

    // MARK: Socket side

    public func handleIO(events: UInt32) {
        if connecting {
            let error = socket.connectError()
            if error != 0 {
                let reason = "\(targetDescription) refused the connection (\(SystemError("connect", errno: error)))"
                onConnectResult?(reason); onConnectResult = nil
                return abort(code: .refused, reason: reason)
            }
            connecting = false
            if let connectTimer { loop.cancelTimer(connectTimer) }
            socket.setNoDelay()
            onConnectResult?(nil); onConnectResult = nil
            writeQueued()
            return
        }
        if events & IOInterest.write != 0 { writeQueued() }
        if !closed && events & (IOInterest.read | IOInterest.error) != 0 { readSocket() }
    }

    private func readSocket() {
        while !closed && !toStream.isEmpty {
            let sent = toStream.consume { tunnel.send(stream: stream, $0) }
            if sent == 0 { readPaused = true; updateInterest(); return }
        }
        while !closed && !socketEOF {
            let capacity = tunnel.sendCapacity(stream: stream)
            if capacity == 0 { readPaused = true; updateInterest(); return }
            let result: Socket.IOResult
            do {
                result = try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: readBuffer[0..<min(capacity, readBuffer.count)]))
            } catch {
                return abort(code: .cancelled, reason: "\(targetDescription): \(error)")
            }
            switch result {
            case .bytes(let n):
                tunnel.send(stream: stream, UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
                if n < min(capacity, readBuffer.count) { return }  // drained; epoll says when more comes
            case .wouldBlock:
                return
            case .eof:
                socketEOF = true
                tunnel.finish(stream: stream)
                updateInterest()
                closeIfDone()
            }
        }
    }

    private func writeQueued() {
        do {
            let written = try toSocket.flush(to: socket)
            if written > 0 { tunnel.consumed(stream: stream, count: written) }
        } catch {
            return abort(code: .cancelled, reason: "\(targetDescription): \(error)")
        }
        shutdownIfDrained()
    }

    /// Once the peer finished and everything reached the socket, pass the FIN on.
    private func shutdownIfDrained() {
        if toSocket.isEmpty && streamFinished && !wroteShutdown {
            wroteShutdown = true
            socket.shutdownWrite()
        }
        updateInterest()
        closeIfDone()
    }

    private func updateInterest() {
        guard !closed, !connecting else { return }
        var interest: UInt32 = 0
        if !socketEOF && !readPaused { interest |= IOInterest.read }
        if !toSocket.isEmpty { interest |= IOInterest.write }
        loop.modify(fd: socket.fd, interest: interest)
    }

    // MARK: Stream side

    public func tunnelStream(_ stream: UInt32, didReceive bytes: [UInt8]) {
        guard !closed else { return }
        guard !connecting else { return toSocket.append(bytes) }
        do {
            let written = try toSocket.send(bytes, to: socket)
            if written > 0 { tunnel.consumed(stream: stream, count: written) }
        } catch {
            return abort(code: .cancelled, reason: "\(targetDescription): \(error)")
        }
        updateInterest()
    }

    public func tunnelStreamDidFinish(_ stream: UInt32) {
        streamFinished = true
        if !connecting { writeQueued() }
    }

    public func tunnelStream(_ stream: UInt32, didReset code: ResetCode, reason: String) {
        guard !closed else { return }
        closed = true
        tearDown(abortive: true)
    }

    public func tunnelStreamIsWritable(_ stream: UInt32) {
        guard readPaused, !closed else { return }
        readPaused = false
        updateInterest()
        readSocket()
    }

    // MARK: Ending

    private func closeIfDone() {
        guard !closed, socketEOF, wroteShutdown else { return }
        closed = true
        tunnel.detach(stream: stream)
        tearDown(abortive: false)
    }

    private func abort(code: ResetCode, reason: String) {
        guard !closed else { return }
        closed = true
        tunnel.reset(stream: stream, code: code, reason: reason)
        tearDown(abortive: true)
    }

    private func tearDown(abortive: Bool) {
        if let connectTimer { loop.cancelTimer(connectTimer) }
        loop.deregister(fd: socket.fd)
        if abortive { socket.abort() } else { socket.close() }
        onClose?()
        onClose = nil
    }
}
