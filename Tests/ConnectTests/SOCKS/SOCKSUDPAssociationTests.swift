import Glibc
import Transport
import TransportTesting
import Wire
import XCTest
@testable import Connect

/// UDP ASSOCIATE: the client's datagrams become IPv4/UDP packets from 198.18.0.1 in the tunnel,
/// and the share's replies come back wrapped for the client.
final class SOCKSUDPAssociationTests: SOCKSTestCase {
    /// The association's control connection and the UDP port the server bound for it.
    private func associate() throws -> (control: LoopbackSocket, port: UInt16) {
        let control = try greetedClient()
        XCTAssertTrue(control.send(request(3, IPv4Address(0), port: 0)))
        let reply = control.receive(count: 10)
        XCTAssertEqual(reply.count, 10)
        XCTAssertEqual(Array(reply.prefix(4)), [5, 0, 0, 1], "succeeded, with an IPv4 address")
        XCTAssertEqual(Array(reply[4..<8]), [127, 0, 0, 1], "bound on the proxy's address")
        return (control, UInt16(reply[8]) << 8 | UInt16(reply[9]))
    }

    private func wrapped(to address: IPv4Address, port: UInt16, _ payload: [UInt8]) -> [UInt8] {
        var datagram: [UInt8] = []
        SOCKS5UDPHeader(address: .ipv4(address), port: port).encode(into: &datagram)
        return datagram + payload
    }

    func testADatagramReachesTheTunnelAsAPacketFromTheSOCKSAddressAndTheReplyComesBack() throws {
        let (control, port) = try associate()
        let client = try LoopbackSocket.udp()
        XCTAssertTrue(client.send(wrapped(to: Self.machine, port: 53, Array("query".utf8)), toPort: port))

        let tunnel = self.tunnel!
        XCTAssertTrue(loop.waitUntil { !tunnel.datagrams.isEmpty })
        let sent = loop.sync { tunnel.datagrams }
        XCTAssertEqual(sent.count, 1)
        XCTAssertEqual(sent.first?.channel, 0)
        let raw = try XCTUnwrap(sent.first?.bytes)
        let packet = try XCTUnwrap(raw.withUnsafeBytes { UDPPacket.parse($0) }, "a valid IPv4/UDP packet")
        XCTAssertEqual(packet.source, SOCKS5Server.udpSourceAddress)
        XCTAssertEqual(packet.destination, Self.machine)
        XCTAssertEqual(packet.destinationPort, 53)
        XCTAssertEqual(Array(raw[packet.payload]), Array("query".utf8))

        // The machine's answer, to the association's source port, reaches the client wrapped.
        var answer = [UInt8](repeating: 0, count: UDPPacket.headerLength) + Array("answer".utf8)
        answer.withUnsafeMutableBytes { bytes in
            _ = try! UDPPacket.emit(into: bytes, source: Self.machine, sourcePort: 53, destination: SOCKS5Server.udpSourceAddress,
                                    destinationPort: packet.sourcePort, payloadLength: 6)
        }
        let (server, gate) = (self.server!, self.gate!)
        XCTAssertTrue(loop.sync { answer.withUnsafeBytes { gate.admitsInbound($0) } }, "the association's packet opened the flow")
        XCTAssertTrue(loop.sync { answer.withUnsafeBytes { server.claims($0) } })
        let received = try XCTUnwrap(client.receiveDatagram())
        XCTAssertEqual(received.fromPort, port)
        XCTAssertEqual(received.bytes, wrapped(to: Self.machine, port: 53, Array("answer".utf8)))
        withExtendedLifetime(control) {}   // the association lives as long as its control connection
    }

    func testADatagramForAnotherDestinationIsDropped() throws {
        let (control, port) = try associate()
        let client = try LoopbackSocket.udp()
        XCTAssertTrue(client.send(wrapped(to: IPv4Address(8, 8, 8, 8), port: 53, [1]), toPort: port))
        XCTAssertTrue(client.send(wrapped(to: Self.machine, port: 54, [2]), toPort: port))
        let tunnel = self.tunnel!
        XCTAssertTrue(loop.waitUntil { !tunnel.datagrams.isEmpty })
        let sent = loop.sync { tunnel.datagrams }
        XCTAssertEqual(sent.count, 1, "only the datagram for the machine")
        XCTAssertEqual(sent.first.flatMap { d in d.bytes.withUnsafeBytes { UDPPacket.parse($0) }?.destinationPort }, 54)
        withExtendedLifetime(control) {}   // the association lives as long as its control connection
    }

    /// Closing the control connection ends the association: its UDP port is closed, so the kernel
    /// answers a datagram to it with ICMP port unreachable, which a connected probe reports as
    /// ECONNREFUSED.
    func testTheAssociationEndsWithItsControlConnection() throws {
        let (control, port) = try associate()
        let probe = try DatagramSocket.connected(to: try SocketAddress(host: "127.0.0.1", port: port))
        control.close()
        var refused = false
        var scratch = [UInt8](repeating: 0, count: 16)
        let deadline = MonotonicClock.now() + 2
        while !refused && MonotonicClock.now() < deadline {
            do {
                // Not a SOCKS datagram: while the association lives it is ignored.
                try [UInt8(0xFF)].withUnsafeBytes { _ = try probe.send($0) }
                usleep(2_000)
                _ = try scratch.withUnsafeMutableBytes { try probe.receive(into: $0) }
            } catch {
                refused = (error as? SystemError)?.errno == ECONNREFUSED
            }
        }
        XCTAssertTrue(refused, "the association's port is closed with its control connection")
        let tunnel = self.tunnel!
        XCTAssertTrue(loop.sync { tunnel.datagrams.isEmpty })
    }
}
