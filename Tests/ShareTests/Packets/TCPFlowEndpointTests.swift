import PacketStack
import Transport
import TransportTesting
import Wire
import XCTest
@testable import Share

/// What a flow endpoint tells its pump, recorded; the "other side" takes at most `room` bytes.
private final class RecordingPump: ByteEndpointEvents {
    var room = Int.max
    var read: [UInt8] = []
    var finishedReading = 0
    var writable = 0
    var resets: [ResetCode] = []
    var waitingForRoom = false

    func room(for reader: ByteEndpoint) -> Int { room }
    func waitForRoom(for reader: ByteEndpoint) { waitingForRoom = true }
    func endpoint(_ reader: ByteEndpoint, didRead bytes: UnsafeRawBufferPointer) -> Int {
        let taken = min(room, bytes.count)
        read += bytes[0..<taken]
        if room != .max { room -= taken }
        return taken
    }
    func endpointDidFinishReading(_ reader: ByteEndpoint) { finishedReading += 1 }
    func endpointIsWritable(_ writer: ByteEndpoint) { writable += 1 }
    func endpoint(_ endpoint: ByteEndpoint, didReset code: ResetCode, reason: String) { resets.append(code) }
    func endpointDidConnect(_ endpoint: ByteEndpoint) {}
}

/// One TCP flow endpoint against its session's stack, with no sockets and no running loop: the
/// test plays the peer's packets into the stack, hands the stack's events to the endpoint as the
/// session would, and reads the stack's packets itself.
final class TCPFlowEndpointTests: XCTestCase {
    private var loop: EventLoop!
    private var session: PacketSession!
    private var endpoint: TCPFlowEndpoint!
    private var pump: RecordingPump!
    private var flow: FlowID = 0
    private var isn: UInt32 = 0
    private let port: UInt16 = 8080

    override func setUpWithError() throws {
        loop = try EventLoop(name: "flow-endpoint-test")   // never run: the test drives everything
        session = PacketSession(id: 1, tunnel: FakeTunnel(loop: loop), channel: 1, targetHost: "127.0.0.1",
                                config: PacketStackConfig(machineAddress: PeerPackets.machine), scope: .everyPort)
        peer(PeerPackets.tcp(port: port, seq: 1000, flags: .syn))
        guard case .tcpConnect(let flow, let dialed)? = session.stack.nextEvent() else {
            return XCTFail("the SYN asks for a dial")
        }
        XCTAssertEqual(dialed, port)
        self.flow = flow
        endpoint = TCPFlowEndpoint(flow: flow, session: session)
        pump = RecordingPump()
        endpoint.events = pump
    }

    override func tearDown() {
        session.close()
    }

    private func peer(_ packet: [UInt8]) {
        packet.withUnsafeBytes { session.stack.receive(packet: $0, now: MonotonicClock.now()) }
    }

    /// The stack's packets for the peer since the last call.
    private func stackOutput() -> [SessionPacket] {
        var packets: [SessionPacket] = []
        session.stack.transmit { packets.append(SessionPacket(Array($0))!); return true }
        return packets
    }

    /// Hands the stack's events to the endpoint, as `PacketSession.service` does.
    private func dispatchEvents() {
        while let event = session.stack.nextEvent() {
            switch event {
            case .tcpReceived: endpoint.stackReceived()
            case .tcpPeerFinished: endpoint.stackPeerFinished()
            case .tcpWritable: endpoint.stackWritable()
            default: break
            }
        }
    }

    /// The machine accepted: the SYN-ACK goes out and the peer completes the handshake.
    private func connect() {
        endpoint.otherSideConnected()
        let synAck = stackOutput()
        XCTAssertEqual(synAck.count, 1)
        XCTAssertEqual(synAck.first?.tcp?.flags, [.syn, .ack])
        isn = synAck.first?.tcp?.sequenceNumber ?? 0
        peer(PeerPackets.tcp(port: port, seq: 1001, ack: isn &+ 1, flags: .ack))
        dispatchEvents()
    }

    func testNothingMovesBeforeTheMachineAccepts() {
        XCTAssertEqual(endpoint.writeCapacity, 0)
        XCTAssertEqual(Array("early".utf8).withUnsafeBytes { endpoint.write($0) }, 0)
        XCTAssertTrue(stackOutput().isEmpty, "no SYN-ACK before the dial succeeded")
        connect()
        XCTAssertGreaterThan(endpoint.writeCapacity, 0)
    }

    /// The other side takes 4 bytes: the rest stays in the stack's receive buffer (its window not
    /// reopened) and is delivered, in order, when reading resumes.
    func testPeerBytesLeaveTheStackOnlyAsFarAsTheOtherSideTakesThem() {
        connect()
        pump.room = 4
        peer(PeerPackets.tcp(port: port, seq: 1001, ack: isn &+ 1, flags: [.psh, .ack], payload: Array("0123456789".utf8)))
        dispatchEvents()
        XCTAssertEqual(pump.read, Array("0123".utf8))
        XCTAssertEqual(session.stack.receivedCount(flow), 6, "the rest waits in the stack")

        pump.room = .max
        endpoint.resumeReading()
        XCTAssertEqual(pump.read, Array("0123456789".utf8))
        XCTAssertEqual(session.stack.receivedCount(flow), 0)
    }

    func testThePeersFinIsReportedAfterItsBytesWereTaken() {
        connect()
        pump.room = 2
        peer(PeerPackets.tcp(port: port, seq: 1001, ack: isn &+ 1, flags: [.fin, .psh, .ack], payload: Array("abcd".utf8)))
        dispatchEvents()
        XCTAssertEqual(pump.finishedReading, 0, "FIN may not overtake bytes still held")
        pump.room = .max
        endpoint.resumeReading()
        XCTAssertEqual(pump.read, Array("abcd".utf8))
        dispatchEvents()   // the stack announces the FIN once its bytes were read
        XCTAssertEqual(pump.finishedReading, 1)
        endpoint.resumeReading()
        dispatchEvents()
        XCTAssertEqual(pump.finishedReading, 1, "reported once")
    }

    func testTheMachinesBytesAndFinGoToThePeer() {
        connect()
        let answer = Array("from the machine".utf8)
        XCTAssertEqual(answer.withUnsafeBytes { endpoint.write($0) }, answer.count)
        endpoint.finishWriting()
        let out = stackOutput()
        XCTAssertEqual(out.flatMap(\.payload), answer)
        XCTAssertEqual(out.first?.tcp?.sequenceNumber, isn &+ 1)
        XCTAssertTrue(out.contains { $0.tcp?.flags.contains(.fin) == true }, "the machine's FIN follows its bytes")
    }

    func testResetBeforeTheMachineAcceptedRefusesTheSyn() {
        endpoint.reset(code: .refused, reason: "connection refused")
        let out = stackOutput()
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out.first?.tcp?.flags.contains(.rst), true)
        XCTAssertEqual(out.first?.tcp?.acknowledgmentNumber, 1001)
        XCTAssertTrue(pump.resets.isEmpty, "the pump reset the endpoint; it is not told back")
    }

    func testResetAfterTheMachineAcceptedAbortsTheConnection() {
        connect()
        endpoint.reset(code: .cancelled, reason: "the machine reset")
        let out = stackOutput()
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out.first?.tcp?.flags.contains(.rst), true)
        XCTAssertEqual(out.first?.tcp?.flags.contains(.syn), false)
        XCTAssertEqual(endpoint.writeCapacity, 0, "nothing more is taken")
    }

    func testAFlowGoneFromTheStackResetsTheMachinesSide() {
        connect()
        endpoint.gone(because: "the peer's connection ended")
        XCTAssertEqual(pump.resets, [.cancelled])
        endpoint.gone(because: "again")
        XCTAssertEqual(pump.resets, [.cancelled], "once")
    }
}
