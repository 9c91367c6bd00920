import CShims
import Foundation
import Glibc
import TunDevice
import Wire
import XCTest

final class TunDeviceTests: XCTestCase {
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

    func testPermissionErrorsSayWhatToDo() {
        let error = TunError.needsPrivileges(call: "TUNSETIFF vshare%d", errno: EPERM)
        XCTAssertTrue(error.isPermissionProblem)
        XCTAssertTrue(error.description.contains("root or CAP_NET_ADMIN"), error.description)
        XCTAssertTrue(error.description.contains("SOCKS"), error.description)
        let missing = TunError.needsPrivileges(call: "open /dev/net/tun", errno: ENOENT)
        XCTAssertTrue(missing.description.contains("/dev/net/tun"), missing.description)
        XCTAssertTrue(missing.description.contains("SOCKS"), missing.description)
    }
}

/// Blocks until `fd` is readable or the time is up (the real event loop uses epoll).
func waitReadable(_ fd: Int32, milliseconds: Int32) throws {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    let rc = poll(&p, 1, milliseconds)
    if rc < 0 && errno != EINTR { throw TestFailure("poll: \(String(cString: strerror(errno)))") }
}

struct HostRoute: Hashable, CustomStringConvertible {
    let interface: String
    let destination: IPv4Address
    var description: String { "\(destination) dev \(interface)" }
}

/// /32 routes of the calling thread's namespace (/proc/thread-self, not /proc/self: the
/// namespace is per thread here).
func hostRoutes() -> [HostRoute] {
    guard let text = try? String(contentsOfFile: "/proc/thread-self/net/route", encoding: .utf8) else { return [] }
    return text.split(separator: "\n").dropFirst().compactMap { line in
        let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        // Iface Destination Gateway Flags RefCnt Use Metric Mask ...; addresses as in-memory hex.
        guard f.count >= 8, f[7] == "FFFFFFFF", let raw = UInt32(f[1], radix: 16) else { return nil }
        return HostRoute(interface: String(f[0]), destination: IPv4Address(UInt32(bigEndian: raw)))
    }
}

/// Output of a tool, or nil when it is not installed. posix_spawn and waitpid rather than
/// Foundation's Process: this runs on a thread inside a private network namespace, and Process
/// set up its child-watching machinery from such a thread once, after which later Process runs
/// in other tests (openssl in IdentityTests) never saw their children exit and hung.
func runTool(_ path: String, _ arguments: [String]) throws -> String? {
    guard access(path, X_OK) == 0 else { return nil }
    var pipeFDs: [Int32] = [0, 0]
    guard pipe(&pipeFDs) == 0 else { throw TestFailure("pipe: \(String(cString: strerror(errno)))") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
    posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    close(pipeFDs[1])
    defer { close(pipeFDs[0]) }
    guard rc == 0 else { throw TestFailure("posix_spawn \(path): \(String(cString: strerror(rc)))") }
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {   // read to the end before waiting: the pipe may fill
        let n = chunk.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
        if n > 0 { output += chunk[0..<n]; continue }
        if n < 0 && errno == EINTR { continue }
        break
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return String(decoding: output, as: UTF8.self)
}
