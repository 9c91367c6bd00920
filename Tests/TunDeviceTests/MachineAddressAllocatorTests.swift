import Foundation
import Glibc
import TunDevice
import Wire
import XCTest

final class MachineAddressAllocatorTests: XCTestCase {
    private func a(_ host: UInt8) -> IPv4Address { IPv4Address(172, 16, 0, host) }

    func testRequestedAddressWhenFree() {
        let choice = MachineAddressAllocator.choose(inUse: AddressesInUse(local: [IPv4Address(10, 0, 0, 5)]))
        XCTAssertEqual(choice, .init(machine: a(2), local: a(1)))
    }

    func testNextFreeWhenTakenAsAddressOrPeer() {
        // Another vshare connect's TUN: local .1, peer .2; some other interface has .3.
        let used = AddressesInUse(local: [a(1), a(3)], peers: [a(2)])
        XCTAssertEqual(MachineAddressAllocator.choose(inUse: used), .init(machine: a(4), local: a(1)))
    }

    func testWrapsAndSkipsNetworkAndBroadcast() {
        let used = AddressesInUse(local: [a(254)])
        let choice = MachineAddressAllocator.choose(requested: a(254), inUse: used)
        XCTAssertEqual(choice, .init(machine: a(2), local: a(1)), "after .254 come .255 and .0 (skipped), .1 (ours), .2")
        XCTAssertEqual(MachineAddressAllocator.choose(requested: a(255), inUse: .init())?.machine, a(2))
        XCTAssertEqual(MachineAddressAllocator.choose(requested: a(0), inUse: .init())?.machine, a(2))
    }

    func testMachineAtDotOneGetsAnotherLocalAddress() {
        XCTAssertEqual(MachineAddressAllocator.choose(requested: a(1), inUse: .init()), .init(machine: a(1), local: a(254)))
    }

    func testLocalAddressNeverAnotherTunnelsPeer() {
        // Someone's machine IP is .1: our local address must not shadow it.
        let used = AddressesInUse(local: [a(254)], peers: [a(1)])
        XCTAssertEqual(MachineAddressAllocator.choose(inUse: used), .init(machine: a(2), local: a(254)))
        let both = AddressesInUse(peers: [a(1), a(254)])
        XCTAssertEqual(MachineAddressAllocator.choose(inUse: both), .init(machine: a(2), local: a(253)))
    }

    func testStaysInTheRequestedSlash24() {
        let other = IPv4Address(10, 99, 7, 2)
        XCTAssertEqual(MachineAddressAllocator.choose(requested: other, inUse: .init(peers: [other])),
                       .init(machine: IPv4Address(10, 99, 7, 3), local: IPv4Address(10, 99, 7, 1)))
    }

    func testFullNetworkHasNoChoice() {
        let all = Set((0...255).map { a(UInt8($0)) })
        XCTAssertNil(MachineAddressAllocator.choose(inUse: AddressesInUse(local: all)))
    }

    /// Root: a second device gets the next machine IP because the first one's peer is in use.
    func testSecondDeviceGetsTheNextAddress() throws {
        try requireRoot()
        let lockPath = NSTemporaryDirectory() + "vshare-alloc-test-\(getpid())"
        defer { unlink(lockPath) }
        try inFreshNetworkNamespace {
            let first = try MachineAddressAllocator.openDevice(lockPaths: [lockPath])
            let second = try MachineAddressAllocator.openDevice(lockPaths: [lockPath])
            XCTAssertEqual(first.peerAddress, IPv4Address(172, 16, 0, 2))
            XCTAssertEqual(second.peerAddress, IPv4Address(172, 16, 0, 3))
            XCTAssertEqual(first.localAddress, IPv4Address(172, 16, 0, 1))
            XCTAssertEqual(second.localAddress, IPv4Address(172, 16, 0, 1), "local address is shared")
            let used = try AddressesInUse.onThisHost()
            XCTAssertTrue(used.peers.isSuperset(of: [first.peerAddress, second.peerAddress]))
            let routes = hostRoutes()
            XCTAssertTrue(routes.contains(HostRoute(interface: first.name, destination: first.peerAddress)), "\(routes)")
            XCTAssertTrue(routes.contains(HostRoute(interface: second.name, destination: second.peerAddress)), "\(routes)")
        }
    }
}
