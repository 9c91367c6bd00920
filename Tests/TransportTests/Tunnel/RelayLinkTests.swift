import Dispatch
import Foundation
import Identity
import Transport
import TransportTesting
import Wire
import XCTest

/// `RelayLink` against a small relay on loopback TLS: HELLO and the role's request on every
/// connection, a reconnect after a loss, the role's verdict on a failed dial.
final class RelayLinkTests: RelayIdentityTestCase {
    func testReconnectsAfterALossAndSendsItsRequestAgain() throws {
        let identity = try relayIdentity()
        let serverTLS = try TLSContext.server(certificatePath: identity.certificatePath, keyPath: identity.privateKeyPath)
        let loop = try EventLoop(name: "link-test")
        let role = Role()
        let relay = HangUpOnceRelay(tls: serverTLS)
        let caPath = identity.caCertificatePath
        start(role, on: loop) { try RelayEndpoint("127.0.0.1:\(try relay.listen(on: loop))", caPath: caPath) }
        defer { loop.stop() }
        XCTAssertEqual(role.done.wait(timeout: .now() + 20), .success, "the link did not finish")
        // Finishing flushes and closes the connection; the role hears it like any loss.
        XCTAssertEqual(role.closedAfterFinish.wait(timeout: .now() + 5), .success, "the connection did not close")
        XCTAssertEqual(role.events, ["connect", "disconnect", "lost", "connect", "joined", "finish 0", "disconnect"])
        XCTAssertEqual(relay.hellos, [.connect, .connect])
        XCTAssertEqual(relay.requests, 2)
    }

    func testAFailedDialIsTheRolesToJudge() throws {
        let loop = try EventLoop(name: "link-test")
        let role = Role()
        // A loopback port nothing listens on: the dial is refused.
        let port = try LoopbackSocket.closedPort()
        start(role, on: loop) { try RelayEndpoint("127.0.0.1:\(port)", caPath: nil) }
        defer { loop.stop() }
        XCTAssertEqual(role.done.wait(timeout: .now() + 20), .success, "the link did not finish")
        XCTAssertEqual(role.events, ["disconnect", "lost", "finish 1"])
    }
}

/// Starts `role` on `loop`'s thread with the endpoint `makeEndpoint` gives there; a setup failure
/// is recorded and ends the test's wait.
private func start(_ role: Role, on loop: EventLoop, _ makeEndpoint: @escaping () throws -> RelayEndpoint) {
    loop.execute {
        do {
            role.start(try makeEndpoint(), loop: loop)
        } catch {
            role.record("setup failed: \(error)")
            role.done.signal()
        }
    }
    loop.startThread()
}

/// A connect-like role: asks to join, gives up after the first loss without any join.
private final class Role: RelayLinkDelegate, @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    let closedAfterFinish = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var recorded: [String] = []
    private var link: RelayLink?
    private var connections = 0

    var events: [String] { lock.withLock { recorded } }
    func record(_ event: String) { lock.withLock { recorded.append(event) } }

    func start(_ endpoint: RelayEndpoint, loop: EventLoop) {
        let link = RelayLink(endpoint: endpoint, role: .connect, loop: loop, mux: MuxConfig(),
                             backoff: ReconnectBackoff(first: 0.05, max: 0.1), label: "test")
        link.delegate = self
        self.link = link
        link.start()
    }

    func relayLinkDidConnect(_ link: RelayLink, tunnel: TunnelConnection) {
        connections += 1
        record("connect")
        link.send(.openSession(OpenSession(name: "happy-cat")))
    }

    func relayLink(_ link: RelayLink, didReceive message: ControlMessage, on tunnel: TunnelConnection) {
        guard case .sessionOpened = message else { return record("unexpected \(message.kind)") }
        record("joined")
        link.requestAccepted()
        link.finish(0)
    }

    func relayLink(_ link: RelayLink, didOpen stream: UInt32, metadata: [UInt8], on tunnel: TunnelConnection) {
        tunnel.reset(stream: stream, code: .refused, reason: "no streams")
    }

    func relayLinkDidDisconnect(_ link: RelayLink) {
        record("disconnect")
        if link.exitStatus != nil { closedAfterFinish.signal() }
    }

    func relayLink(_ link: RelayLink, nextAfterLoss error: Error?) -> RelayLink.Next {
        record("lost")
        return connections > 0 ? .reconnect(notice: "reconnecting in \(link.nextDelay) s") : .finish(status: 1)
    }

    func relayLinkWillFinish(_ link: RelayLink) {
        record("finish \(link.exitStatus ?? -1)")
        done.signal()
    }
}

/// Hangs up on the first request it gets; answers the second with `sessionOpened`.
private final class HangUpOnceRelay: TunnelConnectionDelegate, @unchecked Sendable {
    private let tls: TLSContext
    private let port = TunnelTestListener()
    private let lock = NSLock()
    private var helloRoles: [HelloBody.Role] = []
    private var requestCount = 0

    init(tls: TLSContext) { self.tls = tls }

    var hellos: [HelloBody.Role] { lock.withLock { helloRoles } }
    var requests: Int { lock.withLock { requestCount } }

    func listen(on loop: EventLoop) throws -> UInt16 {
        try port.start(tls: tls, loop: loop, delegate: self)
    }

    func tunnelDidConnect(_ tunnel: TunnelConnection) { tunnel.sendHello(HelloBody(role: .relay)) }

    func tunnel(_ tunnel: TunnelConnection, didReceiveHello version: UInt16, body: HelloBody?) {
        if let role = body?.role { lock.withLock { helloRoles.append(role) } }
    }

    func tunnel(_ tunnel: TunnelConnection, didReceiveControl payload: [UInt8]) {
        guard case .openSession(let request)? = try? ControlMessage.decode(payload) else { return tunnel.close() }
        let count: Int = lock.withLock { requestCount += 1; return requestCount }
        if count == 1 { return tunnel.close() }
        tunnel.sendControl(ControlMessage.sessionOpened(SessionOpened(name: request.name, session: 1, expiresIn: 60)).encoded())
    }

    func tunnel(_ tunnel: TunnelConnection, didOpen stream: UInt32, metadata: [UInt8]) {
        tunnel.reset(stream: stream, code: .refused, reason: "no streams")
    }

    func tunnelDidClose(_ tunnel: TunnelConnection, error: Error?) {}
}
