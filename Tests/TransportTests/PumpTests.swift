import Glibc
import XCTest
@testable import Transport
import Wire

/// A tunnel that records what a stream user does with it, and lets a test deliver the peer's side.
final class FakeTunnel: TunnelStreams {
    let loop: EventLoop
    var isOpen = true
    /// What `sendCapacity` answers; `send` takes no more and uses it up.
    var capacity = Int.max
    var sent: [UInt8] = []
    var consumedCount = 0
    var finished = false
    var resets: [ResetCode] = []
    var detached = false
    var connectedSignals = 0
    var wantsWritable = false
    var handler: TunnelStreamHandler?

    init(loop: EventLoop) { self.loop = loop }

    func open(metadata: [UInt8], handler: TunnelStreamHandler?) -> UInt32? { self.handler = handler; return 1 }
    func attach(stream: UInt32, handler: TunnelStreamHandler) { self.handler = handler }
    func detach(stream: UInt32) { detached = true; handler = nil }
    func sendCapacity(stream: UInt32) -> Int { capacity }
    func notifyWhenWritable(stream: UInt32) { wantsWritable = true }
    func send(stream: UInt32, _ bytes: UnsafeRawBufferPointer) -> Int {
        let n = min(capacity, bytes.count)
        sent += bytes[0..<n]
        if capacity != .max { capacity -= n }
        return n
    }
    func consumed(stream: UInt32, count: Int) { consumedCount += count }
    func finish(stream: UInt32) { finished = true }
    func reset(stream: UInt32, code: ResetCode, reason: String) { resets.append(code); handler = nil }
    func sendConnected(stream: UInt32) { connectedSignals += 1 }

    // The peer's side.
    func deliver(_ bytes: [UInt8]) { bytes.withUnsafeBytes { handler?.tunnelStream(1, didReceive: $0) } }
    func deliverFin() { handler?.tunnelStreamDidFinish(1) }
    func deliverReset(_ code: ResetCode) { let h = handler; handler = nil; h?.tunnelStream(1, didReset: code, reason: "test") }
    func deliverConnected() { handler?.tunnelStreamDidConnect(1) }
    /// Credit came back: `capacity` more bytes fit, and a waiting writer hears it.
    func grant(_ capacity: Int) {
        self.capacity = capacity
        if wantsWritable { wantsWritable = false; handler?.tunnelStreamIsWritable(1) }
    }
}

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
        left.deliver(data)
        XCTAssertEqual(right.sent, Array(data[0..<30]), "no more than the sink's capacity")
        XCTAssertEqual(left.consumedCount, 30, "credit returned only for what the next hop took")
        XCTAssertTrue(right.wantsWritable, "the pump waits for room after a short take")

        right.grant(50)
        XCTAssertEqual(right.sent, Array(data[0..<80]))
        XCTAssertEqual(left.consumedCount, 80)
        XCTAssertTrue(right.wantsWritable)

        right.grant(.max)
        XCTAssertEqual(right.sent, data)
        XCTAssertEqual(left.consumedCount, 100)
        XCTAssertTrue(ended.isEmpty)
    }

    func testBytesArrivingWhileBlockedWaitTheirTurnInOrder() {
        right.capacity = 0
        left.deliver(bytes(10, seed: 1))
        left.deliver(bytes(10, seed: 2))
        XCTAssertEqual(left.consumedCount, 0)
        right.grant(.max)
        XCTAssertEqual(right.sent, bytes(10, seed: 1) + bytes(10, seed: 2))
        XCTAssertEqual(left.consumedCount, 20)
    }

    func testHalfCloseEachWayThenBothDone() {
        left.deliver(bytes(5))
        left.deliverFin()
        XCTAssertTrue(right.finished, "left's FIN passes on")
        XCTAssertFalse(left.finished)
        XCTAssertTrue(ended.isEmpty, "the other direction still flows")

        right.deliver(bytes(7))
        XCTAssertEqual(left.sent, bytes(7))
        right.deliverFin()
        XCTAssertTrue(left.finished)
        XCTAssertTrue(left.detached && right.detached, "both directions done: both streams released")
        XCTAssertEqual(ended.count, 1)
        XCTAssertNil(ended[0] as ResetCode?)
    }

    func testFinWaitsForHeldBytes() {
        right.capacity = 3
        left.deliver(bytes(10))
        left.deliverFin()
        XCTAssertFalse(right.finished, "FIN may not overtake bytes still held")
        right.grant(.max)
        XCTAssertEqual(right.sent, bytes(10))
        XCTAssertTrue(right.finished)
    }

    func testResetFromLeftReachesRight() {
        left.deliverReset(.refused)
        XCTAssertEqual(right.resets, [.refused])
        XCTAssertEqual(left.resets, [], "the side that reset is not reset back")
        XCTAssertEqual(ended.count, 1)
        XCTAssertEqual(ended[0], .refused)
        left.deliver(bytes(3))
        XCTAssertEqual(right.sent, [], "nothing moves after a reset")
    }

    func testResetFromRightReachesLeft() {
        right.deliverReset(.timeout)
        XCTAssertEqual(left.resets, [.timeout])
        XCTAssertEqual(ended.count, 1)
        XCTAssertEqual(ended[0], .timeout)
    }

    func testConnectedSignalPassesAcross() {
        right.deliverConnected()
        XCTAssertEqual(left.connectedSignals, 1)
        XCTAssertEqual(right.connectedSignals, 0)
    }
}

/// A real socket (one end of a socket pair) joined to a fake tunnel stream, on a running loop.
final class SocketPumpTests: XCTestCase {
    private func socketPair() throws -> (Socket, Int32) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { throw SystemError("socketpair") }
        _ = fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK)
        return (Socket(adopting: pair[0]), pair[1])
    }

    /// Runs `body` on the loop's thread and waits for it.
    private func onLoop(_ loop: EventLoop, _ body: @escaping () -> Void) {
        let done = expectation(description: "loop turn")
        loop.execute { body(); done.fulfill() }
        wait(for: [done], timeout: 5)
    }

    private func eventually(_ loop: EventLoop, _ what: String, _ condition: @escaping () -> Bool) {
        for _ in 0..<500 {
            var ok = false
            onLoop(loop) { ok = condition() }
            if ok { return }
            usleep(10_000)
        }
        XCTFail("timed out waiting for \(what)")
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
        eventually(loop, "the first 1000 bytes") { tunnel.sent.count == 1000 }
        usleep(50_000)
        onLoop(loop) {
            XCTAssertEqual(tunnel.sent.count, 1000, "no credit: nothing more is read from the socket")
            XCTAssertTrue(tunnel.wantsWritable)
            tunnel.grant(.max)
        }
        // Drain the rest of what the peer still has to write, then half-close the peer's side.
        while written < payload.count {
            let n = payload.withUnsafeBytes { send(peer, $0.baseAddress! + written, payload.count - written, 0) }
            XCTAssertGreaterThan(n, 0)
            written += n
        }
        shutdown(peer, Int32(SHUT_WR))
        eventually(loop, "all bytes and the FIN") { tunnel.sent.count == payload.count && tunnel.finished }

        // The stream's bytes reach the peer, then its FIN does.
        onLoop(loop) {
            tunnel.deliver(Array("hello".utf8))
            tunnel.deliverFin()
        }
        var buffer = [UInt8](repeating: 0, count: 16)
        var got: [UInt8] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(peer, $0.baseAddress!, 16, 0) }
            if n <= 0 { break }
            got += buffer[0..<n]
        }
        XCTAssertEqual(got, Array("hello".utf8))
        eventually(loop, "the end") { ended.count == 1 && tunnel.detached }
        XCTAssertEqual(tunnel.consumedCount, 5)
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
            tunnel.deliverReset(.shareEnded)
        }
        var byte: UInt8 = 0
        XCTAssertEqual(recv(peer, &byte, 1, 0), 0, "the socket is closed when the stream is reset")
        XCTAssertEqual(tunnel.resets, [])

        let tunnel2 = FakeTunnel(loop: loop)
        let (socket2, peer2) = try socketPair()
        onLoop(loop) {
            do { try StreamSocketBridge(tunnel: tunnel2, stream: 1, socket: socket2, connecting: false).start() } catch { XCTFail("\(error)") }
            tunnel2.capacity = 0   // a write from the stream side fails once the peer is gone
            tunnel2.deliver([1])
        }
        close(peer2)
        onLoop(loop) { tunnel2.deliver([2, 3]) }
        eventually(loop, "the stream reset") { tunnel2.resets == [.cancelled] }
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
        eventually(loop, "the refusal") { tunnel.resets == [.refused] }
        onLoop(loop) {
            guard case .some(.some(let reason)) = result else { return XCTFail("no refusal reported") }
            XCTAssertTrue(reason.contains("refused"), reason)
        }
    }
}
