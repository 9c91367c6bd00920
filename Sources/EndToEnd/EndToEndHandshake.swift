import CInterop
import Pairing
import Transport
import Wire

/// One end of a data connection up to its TLS session: dials the relay's control port without TLS,
/// runs `PairingExchange` over it, then starts TLS 1.3 with the key both ends derived (external
/// PSK with ECDHE: the relay carries every byte and can read none). Confined to `loop`.
///
/// Reads are exact (a 3-byte header, then its body), so no byte of the TLS handshake that follows
/// is ever consumed here; the socket moves to `TLSConnection` as it is.
public final class EndToEndHandshake: IOHandler {
    public typealias Completion = (Result<TLSConnection, EndToEndError>) -> Void

    public let loop: EventLoop
    private let socket: Socket
    private let exchange: PairingExchange
    private let tls: TLSContext
    private var completion: Completion?
    private var connecting = true
    private var outbound: [UInt8] = []
    private var header: [UInt8] = []
    private var body: [UInt8] = []
    private var bodyLength: Int?
    private var key: [UInt8]?
    private var timer: UInt64?
    /// For the agent's guess counter: the attempt got far enough to test a code.
    public var countsAsGuess: Bool { exchange.countsAsGuess }

    /// Seconds for the whole pairing, including waiting for the other end to reach the relay.
    public static let timeout = 20.0

    /// Pairs over a new connection to `relay` with the ticket the relay gave this end.
    public convenience init(side: EndToEndSide, relay: SocketAddress, ticket: [UInt8],
                            credentials: PairingCredentials, loop: EventLoop) throws(EndToEndError) {
        let exchange: PairingExchange
        do {
            exchange = try PairingExchange(side: side, credentials: credentials, ticket: ticket)
        } catch {
            throw .local("cannot start pairing: \(error)")
        }
        try self.init(exchange: exchange, relay: relay, loop: loop)
    }

    /// An agent's refusal: tells the peer `reason` over the data connection, then hangs up.
    public convenience init(refusing reason: String, relay: SocketAddress, ticket: [UInt8],
                            loop: EventLoop) throws(EndToEndError) {
        try self.init(exchange: PairingExchange(refusingWith: reason, ticket: ticket), relay: relay, loop: loop)
    }

    private init(exchange: PairingExchange, relay: SocketAddress, loop: EventLoop) throws(EndToEndError) {
        self.exchange = exchange
        self.loop = loop
        do {
            tls = try TLSContext.externalPSK(isServer: exchange.side == .agent)
            socket = try Socket.connect(to: relay)
        } catch {
            throw .local("cannot open a data connection to the relay at \(relay): \(error)")
        }
    }

    /// Tests: give up after `seconds` instead of `timeout`.
    func shortenTimeoutForTests(_ seconds: Double) {
        if let timer { loop.cancelTimer(timer) }
        timer = loop.schedule(after: seconds) { [weak self] in self?.finish(.failure(.timedOut(seconds))) }
    }

    /// Starts; `completion` runs once, on the loop.
    public func start(_ completion: @escaping Completion) {
        self.completion = completion
        do {
            try loop.register(fd: socket.fd, interest: IOInterest.write, handler: self)
        } catch {
            return finish(.failure(.connection("\(error)")))
        }
        timer = loop.schedule(after: Self.timeout) { [weak self] in self?.finish(.failure(.timedOut(Self.timeout))) }
    }

    public func handleIO(events: UInt32) {
        guard completion != nil else { return }
        if connecting {
            let error = socket.connectError()
            guard error == 0 else { return finish(.failure(.connection("\(SystemError("connect", errno: error))"))) }
            connecting = false
            socket.setNoDelay()
            perform(exchange.start())
        }
        guard completion != nil else { return }
        do {
            try flush()
            if events & IOInterest.read != 0 || events & IOInterest.error != 0 { try readMessages() }
        } catch let error as EndToEndError {
            finish(.failure(error))
        } catch {
            finish(.failure(.connection("\(error)")))
        }
        updateInterest()
    }

    // MARK: Steps

    private func perform(_ actions: [PairingExchange.Action]) {
        for action in actions {
            switch action {
            case .send(let bytes): outbound += bytes
            case .established(let key): self.key = key
            case .fail(let kind): return finish(.failure(Self.error(kind)))
            }
        }
    }

    private func readMessages() throws {
        while completion != nil, !exchange.isDone {
            let want = bodyLength.map { $0 - body.count } ?? (PairingMessage.headerSize - header.count)
            var chunk = [UInt8](repeating: 0, count: max(want, 1))
            let result = try chunk.withUnsafeMutableBytes { try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }
            switch result {
            case .wouldBlock: return
            case .eof:
                throw exchange.side == .peer && body.isEmpty && header.isEmpty
                    ? EndToEndError.connection("the relay closed the data connection (the ticket expired, or the share's agent did not come)")
                    : EndToEndError.connection("the other end closed the connection during pairing")
            case .bytes(let n):
                if bodyLength == nil {
                    header += chunk[0..<n]
                    if header.count == PairingMessage.headerSize {
                        do { bodyLength = try PairingMessage.bodyLength(header: header) } catch {
                            throw EndToEndError.protocolViolation("\(error)")
                        }
                    }
                } else {
                    body += chunk[0..<n]
                }
                if let length = bodyLength, body.count == length {
                    let message: PairingMessage
                    do { message = try PairingMessage.decode(header: header, body: body) } catch {
                        throw EndToEndError.protocolViolation("\(error)")
                    }
                    header.removeAll()
                    body.removeAll()
                    bodyLength = nil
                    perform(exchange.receive(message))
                    try flush()
                }
            }
        }
    }

    private func flush() throws {
        while !outbound.isEmpty {
            let result = try outbound.withUnsafeBytes { try socket.write($0) }
            guard case .bytes(let n) = result else { break }
            outbound.removeFirst(n)
        }
        if outbound.isEmpty, key != nil { startTLS() }
        else if outbound.isEmpty, exchange.isRefusal, completion != nil {
            // The refusal went out: the peer has its answer.
            finish(.failure(.refused("this end refused")))
        }
    }

    private func updateInterest() {
        guard completion != nil else { return }
        loop.modify(fd: socket.fd, interest: IOInterest.read | (outbound.isEmpty ? 0 : IOInterest.write))
    }

    private func startTLS() {
        guard var key, completion != nil else { return }
        defer { wipeSecret(&key) }
        self.key = nil
        loop.deregister(fd: socket.fd)
        do {
            let connection = try TLSConnection(socket: socket, context: tls, loop: loop, psk: key)
            complete(.success(connection))
        } catch {
            complete(.failure(.local("cannot start TLS: \(error)")))
        }
    }

    private func finish(_ result: Result<TLSConnection, EndToEndError>) {
        guard completion != nil else { return }
        loop.deregister(fd: socket.fd)
        socket.close()
        complete(result)
    }

    private func complete(_ result: Result<TLSConnection, EndToEndError>) {
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        let completion = self.completion
        self.completion = nil
        completion?(result)
    }

    private static func error(_ kind: PairingExchange.EndToEndErrorKind) -> EndToEndError {
        switch kind {
        case .wrongCode: return .wrongCode
        case .refused(let why): return .refused(why)
        case .protocolViolation(let why): return .protocolViolation(why)
        case .local(let why): return .local(why)
        }
    }
}
