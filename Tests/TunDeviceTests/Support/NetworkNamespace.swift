import CShims
import Foundation
import Glibc
import XCTest

/// Root gate for tests that create interfaces. CI runs as root, so there a missing privilege
/// is a broken CI set-up and fails; on a developer machine it skips with the reason.
func requireRoot(file: StaticString = #filePath, line: UInt = #line) throws {
    guard getuid() != 0 else { return }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        XCTFail("CI=true but not root: TUN tests need root (CAP_NET_ADMIN)", file: file, line: line)
        throw XCTSkip("failed above")
    }
    throw XCTSkip("TUN tests need root (CAP_NET_ADMIN); run `sudo swift test --filter TunDeviceTests`")
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

private final class Outcome: @unchecked Sendable {
    var error: (any Error)?   // written by the worker thread before it signals
    let done = DispatchSemaphore(value: 0)
}

/// Runs `body` on a new thread that first moves itself into a fresh, empty network namespace.
/// unshare(CLONE_NEWNET) affects only the calling thread, so XCTest's other threads stay in the
/// host's namespace; when the thread ends and its TUN fds are closed, the namespace and every
/// interface in it disappear, even if the body failed half-way.
func inFreshNetworkNamespace(timeout: TimeInterval = 20, _ body: @escaping @Sendable () throws -> Void) throws {
    let outcome = Outcome()
    let thread = Thread {
        defer { outcome.done.signal() }
        guard vshare_unshare_network_namespace() == 0 else {
            outcome.error = TestFailure("unshare(CLONE_NEWNET): \(String(cString: strerror(errno)))")
            return
        }
        do { try body() } catch { outcome.error = error }
    }
    thread.start()
    guard outcome.done.wait(timeout: .now() + timeout) == .success else {
        throw TestFailure("namespace test body did not finish within \(timeout) s")
    }
    if let error = outcome.error { throw error }
}
