import Glibc
import Identity
import Transport
import TransportTesting
import XCTest

/// End-to-end sessions (`TLSContext.externalPSK`): two TLSConnections on one socket pair, driven by a
/// real event loop, keyed by a pairing key; and each of them against an ordinary certificate peer.
final class ExternalPSKTests: RelayIdentityTestCase {
    private let key: [UInt8] = Array(0..<16)
    private var loop: EventLoop!

    override func setUp() {
        super.setUp()
        loop = try! EventLoop(name: "psk-test")
        loop.startThread()
    }

    override func tearDown() {
        loop.stop()
        super.tearDown()
    }

    func testSameKeyOpensATLS13SessionKeyedByThePSKCarryingBytesBothWays() throws {
        let (client, server) = try connectPair(clientKey: key, serverKey: key)
        XCTAssertTrue(loop.waitUntil { client.isOpen && server.isOpen }, "the handshake did not complete")
        for side in [client, server] {
            loop.sync {
                XCTAssertEqual(side.connection.negotiatedVersion, "TLSv1.3")
                XCTAssertEqual(side.connection.cipherName, "TLS_AES_128_GCM_SHA256")
                XCTAssertTrue(side.connection.usedPSK, "the session was not keyed by the pre-shared key")
            }
        }
        loop.sync { client.connection.write(Array("from the connect client".utf8)) }
        loop.sync { server.connection.write(Array("from the share agent".utf8)) }
        XCTAssertTrue(loop.waitUntil { server.received.count == 23 && client.received.count == 20 })
        loop.sync {
            XCTAssertEqual(String(decoding: server.received, as: UTF8.self), "from the connect client")
            XCTAssertEqual(String(decoding: client.received, as: UTF8.self), "from the share agent")
        }
    }

    func testDifferentKeysFailOnBothEndsAsAKeyMismatch() throws {
        var other = key
        other[15] ^= 1
        let (client, server) = try connectPair(clientKey: key, serverKey: other)
        XCTAssertTrue(loop.waitUntil { client.closed && server.closed }, "a side did not fail")
        for side in [client, server] {
            loop.sync {
                XCTAssertFalse(side.handshook)
                let error = side.error as? TLSError
                XCTAssertEqual(error?.isKeyMismatch, true, "\(side.error.map { "\($0)" } ?? "no error")")
                XCTAssertTrue("\(side.error!)".contains("does not hold the same session key"), "\(side.error!)")
            }
        }
    }

    func testPSKClientRefusesAServerWithACertificate() throws {
        let identity = try relayIdentity()
        let serverTLS = try TLSContext.server(certificatePath: identity.certificatePath, keyPath: identity.privateKeyPath)
        let (client, server) = try connectPair(clientKey: key, serverContext: serverTLS)
        XCTAssertTrue(loop.waitUntil { client.closed }, "the client accepted a certificate server")
        loop.sync {
            XCTAssertFalse(client.handshook)
            let error = client.error as? TLSError
            XCTAssertEqual(error?.isCertificateFailure, true, "\(client.error.map { "\($0)" } ?? "no error")")
            XCTAssertEqual(error?.isKeyMismatch, false)
            XCTAssertTrue("\(client.error!)".contains("not the paired end"), "\(client.error!)")
        }
        XCTAssertTrue(loop.waitUntil { server.closed })
        loop.sync { XCTAssertFalse(server.handshook) }
    }

    func testPSKServerRefusesACertificateVerifyingClient() throws {
        let identity = try relayIdentity()
        let clientTLS = try TLSContext.client(caPath: identity.caCertificatePath)
        let (client, server) = try connectPair(clientContext: clientTLS, serverKey: key)
        XCTAssertTrue(loop.waitUntil { client.closed && server.closed }, "a side did not fail")
        for side in [client, server] {
            loop.sync {
                XCTAssertFalse(side.handshook)
                XCTAssertNotNil(side.error as? TLSError)
            }
        }
    }

    func testAKeyNeedsAPSKContextAndAPSKContextNeedsAKey() throws {
        let psk = try TLSContext.externalPSK(isServer: false)
        let identity = try relayIdentity()
        let ordinary = try TLSContext.client(caPath: identity.caCertificatePath)
        let (socket, peer) = try testSocketPair()
        defer { close(peer) }
        XCTAssertThrowsError(try TLSConnection(socket: socket, context: psk, loop: loop))
        XCTAssertThrowsError(try TLSConnection(socket: socket, context: psk, loop: loop, psk: [1, 2, 3]))
        XCTAssertThrowsError(try TLSConnection(socket: socket, context: ordinary, loop: loop, psk: key))
        XCTAssertNoThrow(try TLSConnection(socket: socket, context: psk, loop: loop, psk: key))
        socket.close()
    }

    // MARK: Helpers

    /// A client and a server on the two ends of a socket pair, started on the loop. Each side is an
    /// external-PSK one with its key, or an ordinary one with its context.
    private func connectPair(clientKey: [UInt8]? = nil, clientContext: TLSContext? = nil,
                             serverKey: [UInt8]? = nil, serverContext: TLSContext? = nil) throws -> (Side, Side) {
        let (clientSocket, serverFD) = try testSocketPair()
        _ = fcntl(serverFD, F_SETFL, fcntl(serverFD, F_GETFL) | O_NONBLOCK)
        let serverSocket = Socket(adopting: serverFD)
        let client = try Side(socket: clientSocket, key: clientKey,
                              context: clientContext ?? TLSContext.externalPSK(isServer: false), loop: loop)
        let server = try Side(socket: serverSocket, key: serverKey,
                              context: serverContext ?? TLSContext.externalPSK(isServer: true), loop: loop)
        let failure: String? = loop.sync {
            do {
                try client.connection.start(handshakeTimeout: 5)
                try server.connection.start(handshakeTimeout: 5)
                return nil
            } catch {
                return "\(error)"
            }
        }
        if let failure { XCTFail(failure) }
        return (client, server)
    }
}

/// One end of the test's connection and what its delegate heard. Touched on the loop only.
private final class Side: TLSConnectionDelegate, @unchecked Sendable {
    var connection: TLSConnection!
    var handshook = false
    var received: [UInt8] = []
    var closed = false
    var error: Error?

    init(socket: Socket, key: [UInt8]?, context: TLSContext, loop: EventLoop) throws {
        connection = if let key {
            try TLSConnection(socket: socket, context: context, loop: loop, psk: key)
        } else {
            try TLSConnection(socket: socket, context: context, loop: loop)
        }
        connection.delegate = self
    }

    var isOpen: Bool { handshook && !closed }

    func tlsDidHandshake(_ connection: TLSConnection) { handshook = true }
    func tls(_ connection: TLSConnection, didReceive bytes: UnsafeRawBufferPointer) { received += bytes }
    func tlsDidDrain(_ connection: TLSConnection) {}
    func tlsDidClose(_ connection: TLSConnection, error: Error?) {
        closed = true
        self.error = error
    }
}
