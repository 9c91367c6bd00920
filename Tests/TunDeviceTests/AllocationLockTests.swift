import Foundation
import Glibc
import TunDevice
import XCTest

final class AllocationLockTests: XCTestCase {
    func testLockExcludesASecondHolderUntilReleased() throws {
        let path = NSTemporaryDirectory() + "vshare-lock-test-\(getpid())"
        defer { unlink(path) }
        let acquired = DispatchSemaphore(value: 0)
        let lock = try AllocationLock(paths: [path])
        Thread.detachNewThread {
            do {
                let second = try AllocationLock(paths: [path])
                acquired.signal()
                _ = second
            } catch {}
        }
        XCTAssertEqual(acquired.wait(timeout: .now() + 0.3), .timedOut, "second holder got the lock while held")
        _ = consume lock   // releases the first lock
        XCTAssertEqual(acquired.wait(timeout: .now() + 5), .success, "lock not released")
    }

    func testUnusableLockPathFallsBackThenFails() throws {
        let good = NSTemporaryDirectory() + "vshare-lock-fallback-\(getpid())"
        defer { unlink(good) }
        let lock = try AllocationLock(paths: ["/nonexistent-dir/x.lock", good])
        XCTAssertEqual(lock.path, good)
        do {
            _ = try AllocationLock(paths: ["/nonexistent-dir/x.lock"])
            XCTFail("no usable lock path, yet locked")
        } catch {
            XCTAssertEqual(error, .lockFailed(path: "/nonexistent-dir/x.lock", errno: ENOENT))
        }
    }
}
