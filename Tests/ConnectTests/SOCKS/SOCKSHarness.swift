import Transport
import TransportTesting
import Wire
import XCTest
@testable import Connect

/// A SOCKS5 server on a running loop, on 127.0.0.1, attached to a fake tunnel; the test's clients
/// are real sockets. Subclasses test one unit each (server, connection, UDP association).
class SOCKSTestCase: XCTestCase {
    static let machine = IPv4Address(10, 99, 0, 2)
    static let shareName = "calm-otter"
    var loop: EventLoop!
    var tunnel: FakeTunnel!
    var server: SOCKS5Server!
    /// The server's gate, as the client shares it (no TUN: the SOCKS source address only).
    var gate: PeerPacketGate!

    override func setUpWithError() throws {
        loop = try EventLoop(name: "socks-test")
        loop.startThread()
        let loop = self.loop!
        let tunnel = FakeTunnel(loop: loop)
        let gate = PeerPacketGate(machine: Self.machine, tunAddress: nil)
        let made: Result<SOCKS5Server, SystemError> = loop.sync {
            do throws(SystemError) {
                let server = try SOCKS5Server(address: try! SocketAddress(host: "127.0.0.1", port: 0), loop: loop,
                                              shareName: Self.shareName, machineAddress: Self.machine, capture: nil, gate: gate)
                server.attach(tunnel)
                return .success(server)
            } catch {
                return .failure(error)
            }
        }
        server = try made.get()
        self.tunnel = tunnel
        self.gate = gate
    }

    override func tearDown() {
        let server = self.server!
        loop.sync { server.close() }
        loop.stop()
    }

    /// A client that connected and finished the greeting (no authentication).
    func greetedClient(file: StaticString = #filePath, line: UInt = #line) throws -> LoopbackSocket {
        let client = try LoopbackSocket.connect(to: server.address.port)
        XCTAssertTrue(client.send([5, 1, 0]), file: file, line: line)
        XCTAssertEqual(client.receive(count: 2), [5, 0], "no authentication", file: file, line: line)
        return client
    }

    /// A request for `command` (1 CONNECT, 3 UDP ASSOCIATE) to an IPv4 address.
    func request(_ command: UInt8, _ address: IPv4Address, port: UInt16) -> [UInt8] {
        let (a, b, c, d) = address.bytes
        return [5, command, 0, 1, a, b, c, d, UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    /// A request for `command` to a domain name.
    func request(_ command: UInt8, domain: String, port: UInt16) -> [UInt8] {
        [5, command, 0, 3, UInt8(domain.utf8.count)] + Array(domain.utf8) + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    /// Waits for the `count`th stream the server opened.
    func openedStream(_ count: Int = 1, file: StaticString = #filePath, line: UInt = #line) -> FakeTunnel.Stream? {
        let tunnel = self.tunnel!
        guard loop.waitUntil({ tunnel.opened.count >= count }) else {
            XCTFail("no stream opened", file: file, line: line)
            return nil
        }
        return loop.sync { tunnel.opened[count - 1] }
    }
}
