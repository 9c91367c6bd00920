import Dispatch
import Foundation
import Glibc
import Pairing
import Transport
import TransportTesting
import Wire
import XCTest
@testable import EndToEnd

/// Both ends of a data connection through a stand-in relay on 127.0.0.1 that, like the real one,
/// reads each end's 39-byte preamble and then copies bytes blindly between the two sockets.
final class EndToEndHandshakeTests: XCTestCase {
    private var loop: EventLoop!
    private var relay: CopyingRelay!
    private let ticket = [UInt8](repeating: 0x5a, count: DataPreamble.ticketLength)
    private static let credentials = try! PairingCredentials(code: "7-acid-acorn-acre", shareName: "frosty-weasel-0857")

    override func setUpWithError() throws {
        loop = try EventLoop(name: "e2e-test")
        loop.startThread()
        relay = try CopyingRelay()
    }

    override func tearDown() {
        loop.stop()
        relay.close()
    }

    /// Starts one end and returns a box its completion fills in, on the loop.
    private func start(_ make: @escaping () throws -> EndToEndHandshake) -> Outcome {
        let outcome = Outcome()
        loop.sync {
            do {
                let handshake = try make()
                outcome.handshake = handshake
                handshake.start { result in outcome.result = result }
            } catch {
                outcome.result = .failure(.local("\(error)"))
            }
        }
        return outcome
    }

    private func end(_ side: EndToEndSide, _ credentials: PairingCredentials) -> Outcome {
        let (loop, relay, ticket) = (self.loop!, self.relay.address, self.ticket)
        return start { try EndToEndHandshake(side: side, relay: relay, ticket: ticket, credentials: credentials, loop: loop) }
    }

    private func waitForBoth(_ a: Outcome, _ b: Outcome) {
        XCTAssertTrue(loop.waitUntil(timeout: 10) { a.result != nil && b.result != nil }, "both ends finished pairing")
    }

    func testTheSameCodeGivesATLS13SessionKeyedByThePairing() throws {
        let agent = end(.agent, Self.credentials)
        let peer = end(.peer, Self.credentials)
        waitForBoth(peer, agent)
        let (peerTLS, agentTLS) = loop.sync { () -> (TLSConnection?, TLSConnection?) in
            (try? peer.result?.get(), try? agent.result?.get())
        }
        let client = try XCTUnwrap(peerTLS), server = try XCTUnwrap(agentTLS)
        let (a, b) = (TLSEnd(client), TLSEnd(server))
        loop.sync {
            try? client.start(handshakeTimeout: 5)
            try? server.start(handshakeTimeout: 5)
        }
        XCTAssertTrue(loop.waitUntil(timeout: 5) { a.handshook && b.handshook }, "TLS completed on both ends")
        loop.sync { client.write(Array("through the relay".utf8)) }
        XCTAssertTrue(loop.waitUntil(timeout: 5) { b.received == Array("through the relay".utf8) })
        XCTAssertEqual(loop.sync { client.negotiatedVersion }, "TLSv1.3")
        XCTAssertEqual(loop.sync { client.cipherName }, "TLS_AES_128_GCM_SHA256")
        XCTAssertEqual(relay.preambles.sorted { $0.side.rawValue < $1.side.rawValue },
                       [DataPreamble(side: .peer, ticket: ticket), DataPreamble(side: .agent, ticket: ticket)])
        loop.sync { client.close(); server.close() }
    }

    func testAWrongCodeIsReportedAsSuchAndTheAgentCountsAGuess() throws {
        let typo = try PairingCredentials(code: "8-acid-acorn-acre", shareName: "frosty-weasel-0857")
        let agent = end(.agent, Self.credentials)
        let peer = end(.peer, typo)
        waitForBoth(peer, agent)
        loop.sync {
            guard case .failure(.wrongCode)? = peer.result else { return XCTFail("peer: \(String(describing: peer.result))") }
            guard case .failure? = agent.result else { return XCTFail("the agent must not pair") }
            XCTAssertEqual(agent.handshake?.countsAsGuess, true, "the agent showed its share: one guess")
        }
    }

    func testARefusingAgentsReasonReachesThePeer() throws {
        let (loop, relay, ticket) = (self.loop!, self.relay.address, self.ticket)
        let agent = start { try EndToEndHandshake(refusing: "too many wrong connect codes; try again in 10 min",
                                                  relay: relay, ticket: ticket, loop: loop) }
        let peer = end(.peer, Self.credentials)
        waitForBoth(peer, agent)
        loop.sync {
            guard case .failure(.refused(let why))? = peer.result else { return XCTFail("\(String(describing: peer.result))") }
            XCTAssertTrue(why.contains("too many wrong connect codes"), why)
        }
    }

    func testARelayThatNeverJoinsTimesOutInsteadOfHanging() throws {
        relay.joins = false
        let peer = end(.peer, Self.credentials)
        loop.sync { peer.handshake?.shortenTimeoutForTests(0.5) }
        XCTAssertTrue(loop.waitUntil(timeout: 5) { peer.result != nil })
        loop.sync {
            guard case .failure(.timedOut)? = peer.result else { return XCTFail("\(String(describing: peer.result))") }
        }
    }
}

/// What one end's completion delivered. Touched on the loop only.
private final class Outcome: @unchecked Sendable {
    var handshake: EndToEndHandshake?
    var result: Result<TLSConnection, EndToEndError>?
}

private final class TLSEnd: TLSConnectionDelegate, @unchecked Sendable {
    var handshook = false
    var received: [UInt8] = []
    init(_ connection: TLSConnection) { connection.delegate = self }
    func tlsDidHandshake(_ connection: TLSConnection) { handshook = true }
    func tls(_ connection: TLSConnection, didReceive bytes: UnsafeRawBufferPointer) { received += bytes }
    func tlsDidDrain(_ connection: TLSConnection) {}
    func tlsDidClose(_ connection: TLSConnection, error: Error?) {}
}

/// Accepts two connections, reads each one's preamble, then copies bytes both ways with two
/// blocking threads — a relay that cannot read what it carries, like `DataConnection`.
private final class CopyingRelay: @unchecked Sendable {
    let address: SocketAddress
    private let listener: Int32
    private let lock = NSLock()
    private var _preambles: [DataPreamble] = []
    private var fds: [Int32] = []
    var joins = true
    var preambles: [DataPreamble] { lock.withLock { _preambles } }

    init() throws {
        let socket = try Socket.listen(on: SocketAddress(host: "127.0.0.1", port: 0))
        address = try XCTUnwrap(socket.localAddress())
        listener = socket.release()
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) & ~O_NONBLOCK)   // this relay blocks
        Thread.detachNewThread { [self] in serve() }
    }

    private func serve() {
        var ends: [Int32] = []
        while ends.count < 2 {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            lock.withLock { fds.append(fd) }
            var preamble = [UInt8](repeating: 0, count: DataPreamble.size)
            guard recv(fd, &preamble, preamble.count, Int32(MSG_WAITALL)) == preamble.count,
                  let parsed = try? DataPreamble.parse(preamble) else { return }
            lock.withLock { _preambles.append(parsed) }
            ends.append(fd)
        }
        guard joins else { return }
        let (a, b) = (ends[0], ends[1])
        Thread.detachNewThread { Self.copy(a, b) }
        Thread.detachNewThread { Self.copy(b, a) }
    }

    private static func copy(_ from: Int32, _ to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(from, &buffer, buffer.count)
            if n <= 0 { shutdown(to, Int32(SHUT_WR)); return }
            var offset = 0
            while offset < n {
                let w = buffer.withUnsafeBytes { send(to, $0.baseAddress! + offset, n - offset, Int32(MSG_NOSIGNAL)) }
                if w <= 0 { return }
                offset += w
            }
        }
    }

    func close() {
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        for fd in lock.withLock({ fds }) { shutdown(fd, Int32(SHUT_RDWR)) }
    }
}
