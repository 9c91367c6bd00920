import PacketStack
import Transport
import TransportTesting
import Wire
import XCTest
@testable import Share

/// A packet session on a running loop, between a fake tunnel (the peer's packets go in as if they
/// came as datagrams; what it sends is recorded) and real sockets on 127.0.0.1 that the test owns
/// as the shared machine.
final class PacketSessionTests: XCTestCase {
    private static let channel: UInt32 = 7
    private var loop: EventLoop!
    private var tunnel: FakeTunnel!
    private var session: PacketSession!

    override func setUpWithError() throws {
        loop = try EventLoop(name: "packet-session-test")
        loop.startThread()
        makeSession(scope: .everyPort)
    }

    /// (Re)creates the session under test with `scope`.
    private func makeSession(scope: ConnectScope) {
        if let old = session { loop.sync { old.close() } }
        let tunnel = FakeTunnel(loop: loop)
        session = loop.sync {
            let session = PacketSession(id: Self.channel, tunnel: tunnel, channel: Self.channel, targetHost: "127.0.0.1",
                                        config: PacketStackConfig(machineAddress: PeerPackets.machine), scope: scope)
            // As the share agent does: a drained tunnel resumes the sessions that waited.
            tunnel.onDatagramRoom = { [weak session] in session?.tunnelHasRoom() }
            return session
        }
        self.tunnel = tunnel
    }

    override func tearDown() {
        let session = self.session!
        loop.sync { session.close() }
        loop.stop()
    }

    private func peerSends(_ packet: [UInt8]) {
        let session = self.session!
        loop.sync { packet.withUnsafeBytes { session.receive($0) } }
    }

    /// What the session sent the peer so far, parsed; every datagram must be on its channel.
    private func sentToPeer(file: StaticString = #filePath, line: UInt = #line) -> [SessionPacket] {
        let tunnel = self.tunnel!
        let (all, mine) = loop.sync { (tunnel.datagrams.count, tunnel.datagrams(on: Self.channel)) }
        XCTAssertEqual(all, mine.count, "datagrams only on the session's channel", file: file, line: line)
        return mine.map { raw in
            let packet = SessionPacket(raw)
            XCTAssertNotNil(packet, "a well-formed IPv4 packet with valid checksums", file: file, line: line)
            return packet
        }.compactMap { $0 }
    }

    /// Waits for the first packet to the peer that `matches`.
    private func waitForPacket(_ what: String, file: StaticString = #filePath, line: UInt = #line,
                               _ matches: @escaping (SessionPacket) -> Bool) -> SessionPacket? {
        let tunnel = self.tunnel!
        let arrived = loop.waitUntil {
            tunnel.datagrams(on: Self.channel).contains { SessionPacket($0).map(matches) ?? false }
        }
        guard arrived else {
            XCTFail("no \(what) reached the tunnel", file: file, line: line)
            return nil
        }
        return sentToPeer(file: file, line: line).first(where: matches)
    }

    /// The peer's SYN to `port` answered with a SYN-ACK: returns the machine's initial sequence number.
    private func handshake(port: UInt16, sourcePort: UInt16 = 40000, file: StaticString = #filePath,
                           line: UInt = #line) -> UInt32? {
        peerSends(PeerPackets.tcp(sourcePort: sourcePort, port: port, seq: 1000, flags: .syn))
        guard let synAck = waitForPacket("SYN-ACK", file: file, line: line, {
            $0.tcp?.flags == [.syn, .ack] && $0.tcp?.destinationPort == sourcePort
        }) else { return nil }
        XCTAssertEqual(synAck.ip.source, PeerPackets.machine, file: file, line: line)
        XCTAssertEqual(synAck.ip.destination, PeerPackets.peer, file: file, line: line)
        XCTAssertEqual(synAck.tcp?.sourcePort, port, file: file, line: line)
        XCTAssertEqual(synAck.tcp?.acknowledgmentNumber, 1001, "acknowledges the SYN", file: file, line: line)
        return synAck.tcp?.sequenceNumber
    }

    func testSynToAnOpenPortIsAnsweredOnceTheTargetAcceptsItsConnection() throws {
        let target = try LoopbackSocket.listener()
        XCTAssertNotNil(handshake(port: target.port))
        XCTAssertNotNil(target.accept(), "the session dialed the target's port on 127.0.0.1")
        XCTAssertEqual(sentToPeer().count, 1, "the SYN-ACK only")
    }

    func testBytesFlowBothWaysAndTheFinReachesTheTarget() throws {
        let target = try LoopbackSocket.listener()
        let isn = try XCTUnwrap(handshake(port: target.port))
        let machine = try XCTUnwrap(target.accept())

        let request = Array("hello from the peer".utf8)
        peerSends(PeerPackets.tcp(port: target.port, seq: 1001, ack: isn &+ 1, flags: .ack))
        peerSends(PeerPackets.tcp(port: target.port, seq: 1001, ack: isn &+ 1, flags: [.psh, .ack], payload: request))
        XCTAssertEqual(machine.receive(count: request.count), request)

        let answer = Array("hello from the machine".utf8)
        XCTAssertTrue(machine.send(answer))
        let data = waitForPacket("the machine's bytes") { $0.tcp != nil && !$0.payload.isEmpty }
        XCTAssertEqual(data?.payload, answer)
        XCTAssertEqual(data?.tcp?.sequenceNumber, isn &+ 1)
        XCTAssertEqual(data?.tcp?.acknowledgmentNumber, 1001 + UInt32(request.count), "the peer's bytes are acknowledged")

        peerSends(PeerPackets.tcp(port: target.port, seq: 1001 + UInt32(request.count),
                                  ack: isn &+ 1 &+ UInt32(answer.count), flags: [.fin, .ack]))
        XCTAssertTrue(machine.receivesEOF(), "the peer's FIN half-closes the target's connection")
    }

    func testADetachedSessionDropsWhatItSendsAndResumesOnANewTunnel() throws {
        let target = try LoopbackSocket.listener()
        let isn = try XCTUnwrap(handshake(port: target.port))
        let machine = try XCTUnwrap(target.accept())
        peerSends(PeerPackets.tcp(port: target.port, seq: 1001, ack: isn &+ 1, flags: .ack))

        let session = self.session!, old = self.tunnel!
        loop.sync { session.attach(nil) }   // the peer's link broke
        let answer = Array("sent while the peer was away".utf8)
        XCTAssertTrue(machine.send(answer))
        XCTAssertTrue(loop.waitUntil { session.stack.counters.packetsOut >= 2 }, "the stack sent (into nothing)")
        XCTAssertEqual(loop.sync { old.datagrams.count }, 1, "only the SYN-ACK reached the old tunnel")

        let new = FakeTunnel(loop: loop)
        loop.sync { session.attach(new) }   // the peer resumed on a new tunnel
        self.tunnel = new
        let again = waitForPacket("the retransmitted bytes") { $0.tcp != nil && !$0.payload.isEmpty }
        XCTAssertEqual(again?.payload, answer, "the inner TCP retransmits what the gap lost")
        XCTAssertEqual(again?.tcp?.sequenceNumber, isn &+ 1, "the same connection carries on")
    }

    func testSynToAClosedPortIsRefusedWithRst() throws {
        let port = try LoopbackSocket.closedPort()
        peerSends(PeerPackets.tcp(port: port, seq: 1000, flags: .syn))
        let reset = waitForPacket("RST") { $0.tcp?.flags.contains(.rst) == true }
        XCTAssertEqual(reset?.tcp?.sourcePort, port)
        XCTAssertEqual(reset?.tcp?.destinationPort, 40000)
        XCTAssertEqual(reset?.tcp?.acknowledgmentNumber, 1001, "refuses that SYN, as a closed port does")
        XCTAssertFalse(sentToPeer().contains { $0.tcp?.flags.contains(.syn) == true }, "never a SYN-ACK")
    }

    /// A port outside the share's connect scope is refused like a closed one, and never dialed.
    func testPortsOutsideTheScopeAreRefusedAndNeverDialed() throws {
        let target = try LoopbackSocket.listener()
        let udpTarget = try LoopbackSocket.udp()
        makeSession(scope: .only([1]))
        peerSends(PeerPackets.tcp(port: target.port, seq: 1000, flags: .syn))
        let reset = waitForPacket("RST") { $0.tcp?.flags.contains(.rst) == true }
        XCTAssertEqual(reset?.tcp?.sourcePort, target.port)
        XCTAssertNil(target.accept(timeout: 0.3), "an out-of-scope port is never dialed")
        peerSends(PeerPackets.udp(sourcePort: 5353, port: udpTarget.port, payload: Array("ping".utf8)))
        let unreachable = waitForPacket("ICMP port unreachable") { $0.ip.protocolNumber == IPv4Header.protocolICMP }
        XCTAssertEqual(unreachable?.payload.dropFirst().first, 3, "port unreachable")
        XCTAssertNil(udpTarget.receiveDatagram(timeout: 0.3), "nothing reached the UDP target")
    }

    /// The agent's flow caps cover the machine-IP path: over them a SYN gets an RST and nothing is
    /// dialed; every admitted flow is given back when it ends, or when the session closes.
    func testFlowsOverTheAgentsCapsAreRefusedAndEveryAdmittedOneIsGivenBack() throws {
        let target = try LoopbackSocket.listener()
        let session = self.session!
        let caps = CapsProbe(allowed: 1)
        loop.sync {
            session.admitFlow = { caps.admit() }
            session.releaseFlows = { caps.released += $0 }
        }
        XCTAssertNotNil(handshake(port: target.port, sourcePort: 40001))
        XCTAssertNotNil(target.accept(), "the first flow was admitted and dialed")
        peerSends(PeerPackets.tcp(sourcePort: 40002, port: target.port, seq: 1000, flags: .syn))
        let reset = waitForPacket("RST") { $0.tcp?.flags.contains(.rst) == true && $0.tcp?.destinationPort == 40002 }
        XCTAssertNotNil(reset, "over the cap: refused like a closed port")
        XCTAssertNil(target.accept(timeout: 0.3), "and never dialed")
        loop.sync { session.close() }
        XCTAssertEqual(caps.admitted, 1)
        XCTAssertEqual(caps.released, 1, "the admitted flow was given back when the session closed")
    }

    func testUDPDatagramReachesTheTargetAndItsReplyComesBack() throws {
        let target = try LoopbackSocket.udp()
        peerSends(PeerPackets.udp(sourcePort: 5353, port: target.port, payload: Array("ping".utf8)))
        let received = try XCTUnwrap(target.receiveDatagram(), "the datagram reached the target")
        XCTAssertEqual(received.bytes, Array("ping".utf8))

        XCTAssertTrue(target.send(Array("pong".utf8), toPort: received.fromPort))
        let reply = waitForPacket("the UDP reply") { $0.udp != nil }
        XCTAssertEqual(reply?.payload, Array("pong".utf8))
        XCTAssertEqual(reply?.ip.source, PeerPackets.machine)
        XCTAssertEqual(reply?.udp?.sourcePort, target.port)
        XCTAssertEqual(reply?.ip.destination, PeerPackets.peer)
        XCTAssertEqual(reply?.udp?.destinationPort, 5353)
    }

    /// The machine refuses the port (ICMP → ECONNREFUSED on the flow's socket): the peer hears
    /// "port unreachable", as from the machine itself.
    func testUDPToAClosedPortIsAnsweredPortUnreachable() throws {
        let port = try LoopbackSocket.closedPort()
        peerSends(PeerPackets.udp(sourcePort: 5353, port: port, payload: Array("ping".utf8)))
        let unreachable = waitForPacket("ICMP port unreachable") { $0.ip.protocolNumber == IPv4Header.protocolICMP }
        XCTAssertEqual(unreachable?.payload.first, 3, "destination unreachable")
        XCTAssertEqual(unreachable?.payload.dropFirst().first, 3, "port unreachable")
        XCTAssertEqual(unreachable?.ip.source, PeerPackets.machine)
    }

    /// A packet for another address is dropped and counted: no dial, no answer. (The SYN that
    /// follows, from another port, shows the session went on and dialed exactly once.)
    func testPacketForAnotherAddressIsDroppedAndCounted() throws {
        let target = try LoopbackSocket.listener()
        peerSends(PeerPackets.tcp(to: IPv4Address(10, 99, 0, 3), sourcePort: 41000, port: target.port, seq: 1000, flags: .syn))
        XCTAssertNotNil(handshake(port: target.port, sourcePort: 42000))
        XCTAssertNotNil(target.accept())
        XCTAssertFalse(target.ready(timeout: 0), "one connection only: the other SYN never became a dial")
        XCTAssertEqual(sentToPeer().count, 1, "no answer to the stray packet")
        let session = self.session!
        let counters = loop.sync { session.stack.counters }
        XCTAssertEqual(counters.notForMachine, 1)
        XCTAssertEqual(counters.packetsIn, 2)
    }

    /// With no room in the tunnel the session holds its packets (none dropped) until it drains.
    func testAFullTunnelHoldsPacketsUntilItDrains() throws {
        let tunnel = self.tunnel!, session = self.session!
        loop.sync { tunnel.datagramRoom = 0 }
        let target = try LoopbackSocket.listener()
        peerSends(PeerPackets.tcp(port: target.port, seq: 1000, flags: .syn))
        XCTAssertTrue(loop.waitUntil { session.waitingForTunnel }, "the SYN-ACK waits for room")
        loop.sync {
            XCTAssertTrue(tunnel.waitsForDatagramRoom)
            XCTAssertTrue(tunnel.datagrams.isEmpty)
            XCTAssertEqual(tunnel.droppedDatagrams, 0, "the session asks for room instead of losing packets")
        }
        loop.sync { tunnel.drainDatagrams() }
        let synAck = waitForPacket("SYN-ACK after the drain") { $0.tcp?.flags == [.syn, .ack] }
        XCTAssertEqual(synAck?.tcp?.acknowledgmentNumber, 1001)
        XCTAssertFalse(loop.sync { session.waitingForTunnel })
    }
}

/// A stand-in for the agent's `FlowCaps`, counting what the session asks and gives back.
private final class CapsProbe {
    let allowed: Int
    var admitted = 0
    var released = 0
    init(allowed: Int) { self.allowed = allowed }
    func admit() -> Bool {
        guard admitted - released < allowed else { return false }
        admitted += 1
        return true
    }
}
