import Glibc
import XCTest
@testable import Transport
import TransportTesting
import Wire

final class PumpTests: XCTestCase {
    private var loop: EventLoop!
    private var left: FakeTunnel!
    private var right: FakeTunnel!
    private var pump: Pump!
    private var ended: [ResetCode?] = []

    override func setUpWithError() throws {
        loop = try EventLoop(name: "pump-test")
        left = FakeTunnel(loop: loop)
        right = FakeTunnel(loop: loop)
        pump = Pump(TunnelStreamEndpoint(tunnel: left, stream: 1), TunnelStreamEndpoint(tunnel: right, stream: 1))
        pump.onEnd = { [unowned self] in ended.append($0) }
        try pump.start()
    }

    private func bytes(_ n: Int, seed: Int = 0) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 * 7 + seed) } }

    /// A slow reader: the other side takes bytes only as its credit allows, and credit goes back
    /// to the sender only for what was taken, so nothing beyond one window is ever held.
    func testSlowReaderCreditIsRespectedAndHeldBytesAreBounded() {
        right.capacity = 30
        let data = bytes(100)
        left[1].deliver(data)
        XCTAssertEqual(right[1].sent, Array(data[0..<30]), "no more than the sink's capacity")
        XCTAssertEqual(left[1].consumed, 30, "credit returned only for what the next hop took")
        XCTAssertTrue(right[1].wantsWritable, "the pump waits for room after a short take")

        right.grant(50)
        XCTAssertEqual(right[1].sent, Array(data[0..<80]))
        XCTAssertEqual(left[1].consumed, 80)
        XCTAssertTrue(right[1].wantsWritable)

        right.grant(.max)
        XCTAssertEqual(right[1].sent, data)
        XCTAssertEqual(left[1].consumed, 100)
        XCTAssertTrue(ended.isEmpty)
    }

    func testBytesArrivingWhileBlockedWaitTheirTurnInOrder() {
        right.capacity = 0
        left[1].deliver(bytes(10, seed: 1))
        left[1].deliver(bytes(10, seed: 2))
        XCTAssertEqual(left[1].consumed, 0)
        right.grant(.max)
        XCTAssertEqual(right[1].sent, bytes(10, seed: 1) + bytes(10, seed: 2))
        XCTAssertEqual(left[1].consumed, 20)
    }

    func testHalfCloseEachWayThenBothDone() {
        left[1].deliver(bytes(5))
        left[1].deliverFin()
        XCTAssertTrue(right[1].finished, "left's FIN passes on")
        XCTAssertFalse(left[1].finished)
        XCTAssertTrue(ended.isEmpty, "the other direction still flows")

        right[1].deliver(bytes(7))
        XCTAssertEqual(left[1].sent, bytes(7))
        right[1].deliverFin()
        XCTAssertTrue(left[1].finished)
        XCTAssertTrue(left[1].detached && right[1].detached, "both directions done: both streams released")
        XCTAssertEqual(ended.count, 1)
        XCTAssertNil(ended[0] as ResetCode?)
    }

    func testFinWaitsForHeldBytes() {
        right.capacity = 3
        left[1].deliver(bytes(10))
        left[1].deliverFin()
        XCTAssertFalse(right[1].finished, "FIN may not overtake bytes still held")
        right.grant(.max)
        XCTAssertEqual(right[1].sent, bytes(10))
        XCTAssertTrue(right[1].finished)
    }

    func testResetFromLeftReachesRight() {
        left[1].deliverReset(.refused)
        XCTAssertEqual(right[1].resets, [.refused])
        XCTAssertEqual(left[1].resets, [], "the side that reset is not reset back")
        XCTAssertEqual(ended.count, 1)
        XCTAssertEqual(ended[0], .refused)
        left[1].deliver(bytes(3))
        XCTAssertEqual(right[1].sent, [], "nothing moves after a reset")
    }

    func testResetFromRightReachesLeft() {
        right[1].deliverReset(.timeout)
        XCTAssertEqual(left[1].resets, [.timeout])
        XCTAssertEqual(ended.count, 1)
        XCTAssertEqual(ended[0], .timeout)
    }

    func testConnectedSignalPassesAcross() {
        right[1].deliverConnected()
        XCTAssertEqual(left[1].connectedSignals, 1)
        XCTAssertEqual(right[1].connectedSignals, 0)
    }
}

/// A real socket (one end of a socket pair) joined to a fake tunnel stream, on a running loop.
final class SocketPumpTests: XCTestCase {
    private func socketPair() throws -> (Socket, Int32) { try testSocketPair() }

    private func onLoop(_ loop: EventLoop, _ body: @escaping () -> Void) { loop.sync(body) }

    private func eventually(_ loop: EventLoop, _ what: String, _ condition: @escaping () -> Bool) {
        XCTAssertTrue(loop.waitUntil(timeout: 5, condition), "timed out waiting for \(what)")
    }

    func testSocketToStreamStopsReadingWithoutCreditThenHalfClosesBothWays() throws {
        let loop = try EventLoop(name: "socket-pump")
        loop.startThread()
        defer { loop.stop() }
        let tunnel = FakeTunnel(loop: loop)
        let (socket, peer) = try socketPair()
        defer { close(peer) }
        var ended: [ResetCode?] = []
        onLoop(loop) {
            tunnel.capacity = 1000
            let bridge = StreamSocketBridge(tunnel: tunnel, stream: 1, socket: socket, connecting: false)
            bridge.onClose = { ended.append(nil) }
            do { try bridge.start() } catch { XCTFail("\(error)") }
        }
        // 200 KB from the peer; the stream takes 1000 bytes, then the socket must stop being read.
        let payload = [UInt8](repeating: 0x5A, count: 200 * 1024)
        var written = 0
        while written < payload.count {
            let n = payload.withUnsafeBytes { send(peer, $0.baseAddress! + written, payload.count - written, Int32(MSG_DONTWAIT)) }
            if n <= 0 { break }
            written += n
        }
        eventually(loop, "the first 1000 bytes") { tunnel[1].sent.count == 1000 }
        usleep(50_000)
        onLoop(loop) {
            XCTAssertEqual(tunnel[1].sent.count, 1000, "no credit: nothing more is read from the socket")
            XCTAssertTrue(tunnel[1].wantsWritable)
            tunnel.grant(.max)
        }
        // Drain the rest of what the peer still has to write, then half-close the peer's side.
        while written < payload.count {
            let n = payload.withUnsafeBytes { send(peer, $0.baseAddress! + written, payload.count - written, 0) }
            XCTAssertGreaterThan(n, 0)
            written += n
        }
        shutdown(peer, Int32(SHUT_WR))
        eventually(loop, "all bytes and the FIN") { tunnel[1].sent.count == payload.count && tunnel[1].finished }

        // The stream's bytes reach the peer, then its FIN does.
        onLoop(loop) {
            tunnel[1].deliver(Array("hello".utf8))
            tunnel[1].deliverFin()
        }
        var buffer = [UInt8](repeating: 0, count: 16)
        var got: [UInt8] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(peer, $0.baseAddress!, 16, 0) }
            if n <= 0 { break }
            got += buffer[0..<n]
        }
        XCTAssertEqual(got, Array("hello".utf8))
        eventually(loop, "the end") { ended.count == 1 && tunnel[1].detached }
        XCTAssertEqual(tunnel[1].consumed, 5)
    }

    func testSocketResetBecomesStreamResetAndStreamResetAbortsSocket() throws {
        let loop = try EventLoop(name: "socket-reset")
        loop.startThread()
        defer { loop.stop() }
        let tunnel = FakeTunnel(loop: loop)
        let (socket, peer) = try socketPair()
        defer { close(peer) }
        onLoop(loop) {
            do { try StreamSocketBridge(tunnel: tunnel, stream: 1, socket: socket, connecting: false).start() } catch { XCTFail("\(error)") }
            tunnel[1].deliverReset(.shareEnded)
        }
        var byte: UInt8 = 0
        XCTAssertEqual(recv(peer, &byte, 1, 0), 0, "the socket is closed when the stream is reset")
        XCTAssertEqual(tunnel[1].resets, [])

        let tunnel2 = FakeTunnel(loop: loop)
        let (socket2, peer2) = try socketPair()
        onLoop(loop) {
            do { try StreamSocketBridge(tunnel: tunnel2, stream: 1, socket: socket2, connecting: false).start() } catch { XCTFail("\(error)") }
            tunnel2.capacity = 0   // a write from the stream side fails once the peer is gone
            tunnel2[1].deliver([1])
        }
        close(peer2)
        onLoop(loop) { tunnel2[1].deliver([2, 3]) }
        eventually(loop, "the stream reset") { tunnel2.streams[1]?.resets == [.cancelled] }
    }

    func testRefusedDialResetsStreamWithRefused() throws {
        let loop = try EventLoop(name: "socket-refused")
        loop.startThread()
        defer { loop.stop() }
        let tunnel = FakeTunnel(loop: loop)
        // A port nothing listens on: bind one, learn it, close it.
        let probe = try Socket.listen(on: try SocketAddress(host: "127.0.0.1", port: 0))
        let port = try XCTUnwrap(probe.localAddress()?.port)
        probe.close()
        var result: String??
        onLoop(loop) {
            do {
                let socket = try Socket.connect(to: try SocketAddress(host: "127.0.0.1", port: port))
                let bridge = StreamSocketBridge(tunnel: tunnel, stream: 1, socket: socket, connecting: true)
                bridge.onConnectResult = { result = .some($0) }
                try bridge.start()
            } catch {
                XCTFail("\(error)")
            }
        }
        eventually(loop, "the refusal") { tunnel.streams[1]?.resets == [.refused] }
        onLoop(loop) {
            guard case .some(.some(let reason)) = result else { return XCTFail("no refusal reported") }
            XCTAssertTrue(reason.contains("refused"), reason)
        }
    }
}
