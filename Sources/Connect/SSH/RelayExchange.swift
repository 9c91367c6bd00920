import Transport
import Wire

/// One question to the relay on a connect-role connection: HELLO, one CONTROL message, the first
/// CONTROL answer, close. Runs its own event loop on the calling thread until answered.
final class RelayExchange: TunnelConnectionDelegate {
    private let loop: EventLoop
    private let request: ControlMessage
    private var answer: ControlMessage?
    private var failure: String?
    private var tunnel: TunnelConnection?

    private init(loop: EventLoop, request: ControlMessage) {
        self.loop = loop
        self.request = request
    }

    /// The relay's answer, or a message saying why there is none.
    static func ask(_ request: ControlMessage, relay: String, relayCA: String?, mux: MuxConfig,
                    timeout: Double = 30) -> Result<ControlMessage, SSHConnectError> {
        do {
            let loop = try EventLoop(name: "ssh-key")
            let exchange = RelayExchange(loop: loop, request: request)
            exchange.tunnel = try RelayEndpoint(relay, caPath: relayCA).dial(on: loop, mux: mux, delegate: exchange)
            loop.schedule(after: timeout) { [weak exchange] in
                exchange?.fail("the relay at \(relay) did not answer within \(Int(timeout)) s")
            }
            loop.run()
            if let answer = exchange.answer { return .success(answer) }
            return .failure(.relay(exchange.failure ?? "the relay closed the connection"))
        } catch let error as TLSError where error.isCertificateFailure {
            return .failure(.relay("cannot verify the relay's TLS certificate (\(error)). Pass the relay's CA with --relay-ca."))
        } catch {
            return .failure(.relay("cannot connect to the relay at \(relay): \(error). Is the relay running, and is --relay right?"))
        }
    }

    private func fail(_ why: String) {
        if answer == nil && failure == nil { failure = why }
        tunnel?.close()
        loop.stop()
    }

    func tunnelDidConnect(_ tunnel: TunnelConnection) {
        tunnel.sendHello(HelloBody(role: .connect))
        tunnel.sendControl(request.encoded())
    }

    func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {
        if version != TunnelProtocol.version {
            fail(TunnelProtocol.relayVersionMismatch(version))
        }
    }

    func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {
        guard answer == nil, let message = try? ControlMessage.decode(payload) else { return }
        answer = message
        tunnel.close()
        loop.stop()
    }

    func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        tunnel.reset(stream: stream, code: .refused, reason: "connect clients accept no streams")
    }

    func tunnel(_ tunnel: TunnelConnection, didReceiveDatagram bytes: UnsafeRawBufferPointer, channel: UInt32) {}

    func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {
        fail(error.map { "the connection to the relay failed: \($0)" } ?? "the relay closed the connection")
    }
}
