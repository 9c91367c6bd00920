import Transport
import TransportTesting
import Wire
import XCTest
@testable import Connect

/// One SOCKS client's handshake and CONNECT, against the fake tunnel.
final class SOCKS5ConnectionTests: SOCKSTestCase {
    func testConnectOpensAStreamAndRepliesOnlyOnceTheShareConnected() throws {
        let client = try greetedClient()
        XCTAssertTrue(client.send(request(1, Self.machine, port: 8080)))
        let stream = try XCTUnwrap(openedStream())
        let metadata = try XCTUnwrap(loop.sync { stream.metadata })
        XCTAssertEqual(OpenRequest.decode(metadata), OpenRequest(service: .tcp, port: 8080, confirm: true))
        XCTAssertFalse(client.ready(timeout: 0), "no reply before the share dialed the port")

        loop.sync { stream.deliverConnected() }
        XCTAssertEqual(client.receive(count: 10), SOCKS5Reply(.succeeded).encoded())

        XCTAssertTrue(client.send(Array("to the machine".utf8)))
        XCTAssertTrue(loop.waitUntil { stream.sentText == "to the machine" })
        loop.sync { stream.deliver(Array("to the client".utf8)) }
        XCTAssertEqual(client.receive(count: 13), Array("to the client".utf8))
        XCTAssertEqual(loop.sync { stream.resets }, [])
    }

    /// Bytes a client sends right behind its request are not lost while the reply waits.
    func testBytesPipelinedBehindTheRequestFollowOnceConnected() throws {
        let client = try greetedClient()
        XCTAssertTrue(client.send(request(1, domain: Self.shareName, port: 22) + Array("SSH-2.0-x\r\n".utf8)))
        let stream = try XCTUnwrap(openedStream())
        XCTAssertEqual(loop.sync { stream.sent }, [], "nothing goes out before the stream is connected")
        loop.sync { stream.deliverConnected() }
        XCTAssertEqual(client.receive(count: 10), SOCKS5Reply(.succeeded).encoded())
        XCTAssertTrue(loop.waitUntil { stream.sentText == "SSH-2.0-x\r\n" })
    }

    func testARefusedPortIsRepliedConnectionRefused() throws {
        let client = try greetedClient()
        XCTAssertTrue(client.send(request(1, Self.machine, port: 9)))
        let stream = try XCTUnwrap(openedStream())
        loop.sync { stream.deliverReset(.refused, reason: "connection refused") }
        let reply = client.receive(count: 10)
        XCTAssertEqual(reply, SOCKS5Reply(.connectionRefused).encoded())
        XCTAssertEqual(reply.count > 1 ? reply[1] : nil, 0x05, "REP 0x05: connection refused")
        XCTAssertTrue(client.receivesEOF())
    }

    func testAnUnreachableMachineIsRepliedHostUnreachable() throws {
        let client = try greetedClient()
        XCTAssertTrue(client.send(request(1, Self.machine, port: 80)))
        let stream = try XCTUnwrap(openedStream())
        loop.sync { stream.deliverReset(.unreachable) }
        XCTAssertEqual(client.receive(count: 10), SOCKS5Reply(.hostUnreachable).encoded())
    }

    /// A port outside the share's connect scope: the share resets the stream with `.forbidden`.
    func testAPortOutsideTheConnectScopeIsRepliedNotAllowed() throws {
        let client = try greetedClient()
        XCTAssertTrue(client.send(request(1, Self.machine, port: 5432)))
        let stream = try XCTUnwrap(openedStream())
        loop.sync { stream.deliverReset(.forbidden, reason: "not in the share's connect scope") }
        let reply = client.receive(count: 10)
        XCTAssertEqual(reply.count > 1 ? reply[1] : nil, 0x02, "REP 0x02: connection not allowed by ruleset")
        XCTAssertEqual(reply, SOCKS5Reply(.notAllowed).encoded())
        XCTAssertTrue(client.receivesEOF())
    }

    func testADestinationOtherThanTheMachineIsNotAllowedAndOpensNoStream() throws {
        for destination in [request(1, IPv4Address(10, 99, 0, 3), port: 80), request(1, domain: "example.com", port: 80)] {
            let client = try greetedClient()
            XCTAssertTrue(client.send(destination))
            let reply = client.receive(count: 10)
            XCTAssertEqual(reply, SOCKS5Reply(.notAllowed).encoded())
            XCTAssertEqual(reply.count > 1 ? reply[1] : nil, 0x02, "REP 0x02: not allowed by the ruleset")
            XCTAssertTrue(client.receivesEOF())
        }
        let tunnel = self.tunnel!
        XCTAssertTrue(loop.sync { tunnel.opened.isEmpty })
    }

    func testWithoutATunnelConnectIsRepliedNetworkUnreachable() throws {
        let server = self.server!
        loop.sync { server.attach(nil) }
        let client = try greetedClient()
        XCTAssertTrue(client.send(request(1, Self.machine, port: 80)))
        XCTAssertEqual(client.receive(count: 10), SOCKS5Reply(.networkUnreachable).encoded())
    }

    func testBindIsNotSupported() throws {
        let client = try greetedClient()
        XCTAssertTrue(client.send(request(2, Self.machine, port: 80)))
        XCTAssertEqual(client.receive(count: 10), SOCKS5Reply(.commandNotSupported).encoded())
        XCTAssertTrue(client.receivesEOF())
    }
}
