import Dispatch
import Foundation
import Identity
import Transport
import TransportTesting
import Wire
import XCTest

/// A real TLS tunnel on loopback, driven by a real event loop: a client streams more than one
/// window of data through an echo stream on the server, with flow control both ways.
final class TunnelLoopbackTests: RelayIdentityTestCase {
    func testEchoStreamLargerThanWindowArrivesIntact() throws {
        let identity = try relayIdentity()
        let serverTLS = try TLSContext.server(certificatePath: identity.certificatePath, keyPath: identity.privateKeyPath)
        let clientTLS = try TLSContext.client(caPath: identity.caCertificatePath)
        // Small, different windows: the payload needs many credit returns, and each side must
        // use the window the other announced in its HELLO (a mismatch would be a window violation).
        var serverConfig = MuxConfig()
        serverConfig.initialWindow = 128 * 1024
        var config = MuxConfig()
        config.initialWindow = 512 * 1024

        let payload = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }
        let result = Outcome()
        let loop = try EventLoop(name: "test")
        let server = EchoServer(tls: serverTLS, config: serverConfig)
        startEcho(server: server, payload: payload, clientTLS: clientTLS, config: config, loop: loop, result: result)
        loop.startThread()
        defer { loop.stop() }
        XCTAssertEqual(result.done.wait(timeout: .now() + 30), .success, "the echo did not finish in time")
        XCTAssertNil(result.error)
        XCTAssertEqual(result.received.count, payload.count)
        XCTAssertTrue(result.received == payload, "echoed bytes differ")
    }

    /// The relay moves a connect client's connection to its share's loop mid-flight: the
    /// server side migrates on the first OPEN, with data already arriving, and the echo of a
    /// payload several windows long must still come back intact, now served by another thread.
    func testTunnelMigratesToAnotherLoopMidStream() throws {
        let identity = try relayIdentity()
        let serverTLS = try TLSContext.server(certificatePath: identity.certificatePath, keyPath: identity.privateKeyPath)
        let clientTLS = try TLSContext.client(caPath: identity.caCertificatePath)
        var config = MuxConfig()
        config.initialWindow = 128 * 1024
        let payload = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 40503 >> 7) }
        let result = Outcome()
        let loop = try EventLoop(name: "test-a")
        let target = try EventLoop(name: "test-b")
        let server = EchoServer(tls: serverTLS, config: config)
        server.migrateTo = target
        startEcho(server: server, payload: payload, clientTLS: clientTLS, config: config, loop: loop, result: result)
        loop.startThread()
        target.startThread()
        defer { loop.stop(); target.stop() }
        XCTAssertEqual(result.done.wait(timeout: .now() + 30), .success, "the echo did not finish in time")
        XCTAssertNil(result.error)
        XCTAssertTrue(result.received == payload, "echoed bytes differ after the move")
        XCTAssertTrue(server.migrated.withLock { $0 }, "the server's tunnel never ran on the target loop")
    }

    func testClientRefusesServerFromAnotherCA() throws {
        let identity = try relayIdentity()
        let other = try CertificateAuthority.loadOrCreate(dataDir: directory + "-other", hostnames: [])
        defer { try? FileManager.default.removeItem(atPath: directory + "-other") }
        let serverTLS = try TLSContext.server(certificatePath: identity.certificatePath, keyPath: identity.privateKeyPath)
        let clientTLS = try TLSContext.client(caPath: other.caCertificatePath)
        let result = Outcome()
        let loop = try EventLoop(name: "test")
        let server = EchoServer(tls: serverTLS, config: MuxConfig())
        startEcho(server: server, payload: [1, 2, 3], clientTLS: clientTLS, config: MuxConfig(), loop: loop, result: result)
        loop.startThread()
        defer { loop.stop() }
        XCTAssertEqual(result.done.wait(timeout: .now() + 15), .success)
        let error = try XCTUnwrap(result.error)
        XCTAssertTrue(error.contains("certificate"), error)
        XCTAssertTrue(result.received.isEmpty)
    }
}

/// On `loop`: the echo server listens on loopback and a client streams `payload` through it.
private func startEcho(server: EchoServer, payload: [UInt8], clientTLS: TLSContext, config: MuxConfig,
                       loop: EventLoop, result: Outcome) {
    loop.execute {
        do {
            let port = try server.listen(on: loop)
            let client = StreamingClient(payload: payload, outcome: result)
            try client.connect(port: port, tls: clientTLS, config: config, loop: loop)
            result.keep(client)
        } catch {
            result.fail("\(error)")
        }
    }
}

final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func withLock<R>(_ body: (inout Bool) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}

/// What the loop thread reports back to the test thread.
private final class Outcome: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var received: [UInt8] = []
    var error: String?
    private var kept: [AnyObject] = []
    func keep(_ object: AnyObject) { kept.append(object) }
    func fail(_ message: String) { if error == nil { error = message }; done.signal() }
}

/// Accepts tunnels and echoes every stream back, respecting credit.
private final class EchoServer: TunnelConnectionDelegate {
    let tls: TLSContext
    let config: MuxConfig
    let port = TunnelTestListener()
    var echoes: [UInt32: Echo] = [:]
    /// When set, each tunnel moves to this loop when its first stream opens.
    var migrateTo: EventLoop?
    let migrated = LockedFlag()

    init(tls: TLSContext, config: MuxConfig) { self.tls = tls; self.config = config }

    func listen(on loop: EventLoop) throws -> UInt16 {
        try port.start(tls: tls, config: config, loop: loop, delegate: self)
    }

    func tunnelDidConnect(_ tunnel: TunnelConnection) { tunnel.sendHello(HelloBody(role: .relay)) }
    func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {}
    func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {}
    func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        let echo = Echo(tunnel: tunnel, stream: stream)
        echoes[stream] = echo
        tunnel.attach(stream: stream, handler: echo)
        if let target = migrateTo {
            migrateTo = nil
            tunnel.migrate(to: target) { [migrated] in migrated.withLock { $0 = true } }
        }
    }
    func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {}

    final class Echo: TunnelStreamHandler {
        let tunnel: TunnelConnection
        let stream: UInt32
        var pending = ByteQueue()
        var finishPending = false
        init(tunnel: TunnelConnection, stream: UInt32) { self.tunnel = tunnel; self.stream = stream }

        func tunnelStream(_ stream: UInt32, didReceive bytes: UnsafeRawBufferPointer) { pending.append(bytes); drain() }
        func tunnelStreamDidFinish(_ stream: UInt32) { finishPending = true; drain() }
        func tunnelStream(_ stream: UInt32, didReset code: ResetCode, reason: String) {}
        func tunnelStreamIsWritable(_ stream: UInt32) { drain() }

        private func drain() {
            while !pending.isEmpty {
                let sent = pending.consume { tunnel.send(stream: stream, $0) }
                if sent == 0 { return tunnel.notifyWhenWritable(stream: stream) }
                // Credit goes back only for what we passed on: the echo never buffers more than a window.
                tunnel.consumed(stream: stream, count: sent)
            }
            if finishPending { finishPending = false; tunnel.finish(stream: stream) }
        }
    }
}

/// Opens one stream, sends the payload as credit allows, and collects the echo.
private final class StreamingClient: TunnelConnectionDelegate, TunnelStreamHandler {
    let payload: [UInt8]
    let outcome: Outcome
    var offset = 0
    var tunnel: TunnelConnection?
    var stream: UInt32?

    init(payload: [UInt8], outcome: Outcome) { self.payload = payload; self.outcome = outcome }

    func connect(port: UInt16, tls: TLSContext, config: MuxConfig, loop: EventLoop) throws {
        let address = try SocketAddress(host: "127.0.0.1", port: port)
        let connection = try TLSConnection(socket: try Socket.connect(to: address), context: tls, loop: loop,
                                           peerName: "127.0.0.1", peerAddress: address, connecting: true)
        let tunnel = TunnelConnection(tls: connection, role: .dialer, config: config)
        tunnel.delegate = self
        self.tunnel = tunnel
        try tunnel.start()
    }

    func tunnelDidConnect(_ tunnel: TunnelConnection) {
        tunnel.sendHello(HelloBody(role: .share))
    }

    /// Streams open once the peer's HELLO (and its window) is known.
    func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {
        stream = tunnel.open(metadata: OpenRequest(service: .tcp, port: 1).encoded(), handler: self)
        sendMore()
    }

    private func sendMore() {
        guard let tunnel, let stream else { return }
        while offset < payload.count {
            let sent = payload.withUnsafeBytes { tunnel.send(stream: stream, UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            if sent == 0 { return tunnel.notifyWhenWritable(stream: stream) }
            offset += sent
        }
        tunnel.finish(stream: stream)
    }

    func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {}
    func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {}
    func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {
        if let error { outcome.fail("\(error)") }
    }

    func tunnelStream(_ stream: UInt32, didReceive bytes: UnsafeRawBufferPointer) {
        outcome.received.append(contentsOf: bytes)
        tunnel?.consumed(stream: stream, count: bytes.count)
    }
    func tunnelStreamDidFinish(_ stream: UInt32) { outcome.done.signal() }
    func tunnelStream(_ stream: UInt32, didReset code: ResetCode, reason: String) { outcome.fail("reset: \(reason)") }
    func tunnelStreamIsWritable(_ stream: UInt32) { sendMore() }
}
