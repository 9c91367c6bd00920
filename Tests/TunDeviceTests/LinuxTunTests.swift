import CShims
import Foundation
import Glibc
import TunDevice
import Wire
import XCTest

final class LinuxTunTests: XCTestCase {
    private let local = IPv4Address(172, 16, 0, 1)
    private let machine = IPv4Address(172, 16, 0, 2)

    func testDeviceHasAddressPeerMTUAndHostRoute() throws {
        try requireRoot()
        let (local, machine) = (self.local, self.machine)
        try inFreshNetworkNamespace {
            let device = try LinuxTun.open(localAddress: local, peerAddress: machine, mtu: 9000)
            XCTAssertTrue(device.name.hasPrefix("vshare"), device.name)
            XCTAssertGreaterThanOrEqual(device.fd, 0)
            let state = try InterfaceState.read(device.name)
            XCTAssertEqual(state.address, local)
            XCTAssertEqual(state.peer, machine)
            XCTAssertEqual(state.netmask, IPv4Address(255, 255, 255, 255))
            XCTAssertEqual(state.mtu, 9000)
            XCTAssertTrue(state.isUp)
            XCTAssertTrue(state.isPointToPoint)
            // The kernel installed the host route to the machine IP through the TUN.
            XCTAssertTrue(hostRoutes().contains(HostRoute(interface: device.name, destination: machine)),
                          "routes: \(hostRoutes())")
            // The same seen by `ip route` (a child process inherits this thread's namespace).
            if let routes = try? runTool("/sbin/ip", ["-4", "route", "show", "dev", device.name]) {
                XCTAssertTrue(routes.contains("\(machine) proto kernel scope link src \(local)"), routes)
            }
        }
    }

    func testKernelAnswersPingWrittenToTheTun() throws {
        try requireRoot()
        let (local, machine) = (self.local, self.machine)
        try inFreshNetworkNamespace {
            let device = try LinuxTun.open(localAddress: local, peerAddress: machine)
            // As if the machine pinged us: machine → local, written into the TUN.
            let request = ICMPEcho.packet(from: machine, to: local, type: 8, identifier: 0x5653, sequence: 7,
                                          payload: Array("vshare".utf8))
            XCTAssertTrue(try request.withUnsafeBytes { bytes throws(TunError) in try device.write(bytes) })

            let batch = PacketBatch(capacity: 8, maxPacketSize: device.mtu)
            var reply: ICMPEcho?
            let deadline = Date().addingTimeInterval(3)
            while reply == nil && Date() < deadline {
                try waitReadable(device.fd, milliseconds: 200)
                try device.read(into: batch)
                for i in 0..<batch.count {
                    if let echo = ICMPEcho(parsing: batch.packet(i)), echo.type == 0 { reply = echo }
                }
            }
            let echo = try XCTUnwrap(reply, "no echo reply read from the TUN")
            XCTAssertEqual(echo.source, local)
            XCTAssertEqual(echo.destination, machine)
            XCTAssertEqual(echo.identifier, 0x5653)
            XCTAssertEqual(echo.sequence, 7)
            XCTAssertEqual(echo.payload, Array("vshare".utf8))
        }
    }

    func testBatchWriteThenBatchReadCarriesSeveralPackets() throws {
        try requireRoot()
        let (local, machine) = (self.local, self.machine)
        try inFreshNetworkNamespace {
            let device = try LinuxTun.open(localAddress: local, peerAddress: machine)
            let out = PacketBatch(capacity: 4, maxPacketSize: 1500)
            for seq in 1...4 {
                let p = ICMPEcho.packet(from: machine, to: local, type: 8, identifier: 1, sequence: UInt16(seq), payload: [])
                XCTAssertTrue(p.withUnsafeBytes { out.append($0) })
            }
            // Garbage (IP version 0) is dropped and counted, not fatal for the rest of the batch.
            let junk: [UInt8] = [0x00, 0x01, 0x02]
            let withJunk = PacketBatch(capacity: 1, maxPacketSize: 1500)
            junk.withUnsafeBytes { _ = withJunk.append($0) }
            XCTAssertEqual(try device.write(withJunk), 1)
            XCTAssertEqual(device.rejectedPackets, 1)
            XCTAssertEqual(try device.write(out), 4)

            let batch = PacketBatch(capacity: 16, maxPacketSize: device.mtu)
            var sequences: Set<UInt16> = []
            let deadline = Date().addingTimeInterval(3)
            while sequences.count < 4 && Date() < deadline {
                try waitReadable(device.fd, milliseconds: 200)
                try device.read(into: batch)
                for i in 0..<batch.count {
                    if let echo = ICMPEcho(parsing: batch.packet(i)), echo.type == 0 { sequences.insert(echo.sequence) }
                }
            }
            XCTAssertEqual(sequences, [1, 2, 3, 4])
            XCTAssertEqual(try device.read(into: batch), 0, "nothing left: read returns 0 on EAGAIN")
        }
    }

    func testClosingRemovesTheInterfaceAndItsRoute() throws {
        try requireRoot()
        let (local, machine) = (self.local, self.machine)
        try inFreshNetworkNamespace {
            let device = try LinuxTun.open(localAddress: local, peerAddress: machine)
            let name = device.name
            XCTAssertNotEqual(if_nametoindex(name), 0)
            device.close()
            device.close()   // idempotent
            XCTAssertFalse(device.isOpen)
            let deadline = Date().addingTimeInterval(2)
            while if_nametoindex(name) != 0 && Date() < deadline { usleep(10_000) }
            XCTAssertEqual(if_nametoindex(name), 0, "\(name) still exists after close")
            XCTAssertFalse(hostRoutes().contains { $0.interface == name || $0.destination == machine })
        }
    }

    func testNameTemplateAndExplicitName() throws {
        try requireRoot()
        let (local, machine) = (self.local, self.machine)
        try inFreshNetworkNamespace {
            let a = try LinuxTun.open(localAddress: local, peerAddress: machine)
            let b = try LinuxTun.open(localAddress: local, peerAddress: machine.withLastOctet(3))
            XCTAssertNotEqual(a.name, b.name)
            let named = try LinuxTun.open(name: "vs-test", localAddress: local, peerAddress: machine.withLastOctet(4))
            XCTAssertEqual(named.name, "vs-test")
            XCTAssertThrowsError(try LinuxTun.open(name: "a-name-that-is-far-too-long", localAddress: local,
                                                    peerAddress: machine)) { error in
                XCTAssertEqual(error as? TunError, .invalidName("a-name-that-is-far-too-long"))
            }
        }
    }
}
