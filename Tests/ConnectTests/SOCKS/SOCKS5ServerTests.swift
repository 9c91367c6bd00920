import Transport
import TransportTesting
import Wire
import XCTest
@testable import Connect

/// The SOCKS server: whom it lets through, that one bad client leaves the others alone, and which
/// packets from the share it claims.
final class SOCKS5ServerTests: SOCKSTestCase {
    func testAllowsTheMachineByAddressOrShareNameOnly() {
        let server = self.server!
        loop.sync {
            XCTAssertTrue(server.allows(.ipv4(Self.machine)))
            XCTAssertTrue(server.allows(.domain(Self.shareName)))
            XCTAssertTrue(server.allows(.domain("CALM-OTTER.")), "case and a trailing dot do not matter")
            XCTAssertTrue(server.allows(.domain(Self.machine.description)))
            XCTAssertFalse(server.allows(.ipv4(IPv4Address(10, 99, 0, 3))))
            XCTAssertFalse(server.allows(.domain("calm-otter.example.com")))
        }
    }

    func testGarbageClosesThatClientAndTheServerKeepsServing() throws {
        let bad = try LoopbackSocket.connect(to: server.address.port)
        XCTAssertTrue(bad.send([4, 1, 0, 80, 10, 99, 0, 2, 0]))   // SOCKS4
        XCTAssertTrue(bad.receivesEOF(), "a malformed greeting closes that client")

        let good = try greetedClient()
        XCTAssertTrue(good.send(request(1, Self.machine, port: 443)))
        let stream = try XCTUnwrap(openedStream())
        loop.sync { stream.deliverConnected() }
        XCTAssertEqual(good.receive(count: 10), SOCKS5Reply(.succeeded).encoded())
    }

    /// Packets from the share to the SOCKS UDP source address are the server's (a reply for no
    /// association is dropped there); anything else is left for the TUN.
    func testClaimsOnlyPacketsForTheSOCKSUDPAddress() {
        let server = self.server!
        let forTun = udpPacket(to: IPv4Address(10, 99, 0, 1), port: 5353)
        let forSOCKS = udpPacket(to: SOCKS5Server.udpSourceAddress, port: 4000)
        loop.sync {
            XCTAssertFalse(forTun.withUnsafeBytes { server.claims($0) })
            XCTAssertTrue(forSOCKS.withUnsafeBytes { server.claims($0) })
            XCTAssertFalse([1, 2, 3].withUnsafeBytes { server.claims($0) }, "not even IPv4: the TUN's business")
        }
    }

    private func udpPacket(to destination: IPv4Address, port: UInt16) -> [UInt8] {
        var packet = [UInt8](repeating: 0, count: UDPPacket.headerLength + 2)
        packet.withUnsafeMutableBytes { bytes in
            _ = try! UDPPacket.emit(into: bytes, source: Self.machine, sourcePort: 53, destination: destination,
                                    destinationPort: port, payloadLength: 2)
        }
        return packet
    }
}
