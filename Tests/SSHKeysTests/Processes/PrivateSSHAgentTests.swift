import Foundation
import Glibc
import XCTest
@testable import SSHKeys

/// The agent counts as started only once its socket accepts: a bound socket that does not listen
/// yet (ssh-agent between bind and listen) refuses connections, and ssh-add with it.
final class PrivateSSHAgentTests: XCTestCase {
    private func boundSocket(at path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        return fd
    }

    func testOnlyAListeningSocketAccepts() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vshare-agent-test-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/agent.sock"
        XCTAssertFalse(PrivateSSHAgent.accepts(path), "no socket yet")
        let fd = boundSocket(at: path)
        defer { close(fd) }
        XCTAssertEqual(access(path, F_OK), 0, "the file is there")
        XCTAssertFalse(PrivateSSHAgent.accepts(path), "bound, not listening: refused")
        XCTAssertEqual(listen(fd, 4), 0)
        XCTAssertTrue(PrivateSSHAgent.accepts(path))
    }
}
