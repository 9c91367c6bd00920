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

    /// A holder that never lets go is waited for a bounded time, then a clear error.
    func testAHeldLockTimesOutWithAClearError() throws {
        let path = NSTemporaryDirectory() + "vshare-lock-timeout-\(getpid())"
        defer { unlink(path) }
        let held = try AllocationLock(paths: [path])
        let started = Date()
        do {
            _ = try AllocationLock(paths: [path, NSTemporaryDirectory() + "vshare-lock-other-\(getpid())"], timeout: 0.3)
            XCTFail("locked while another holder had it")
        } catch {
            XCTAssertEqual(error, .lockTimedOut(path: path, seconds: 0.3), "a live holder is not a path problem")
            XCTAssertTrue("\(error)".contains("fuser -v \(path)"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        _ = consume held
    }

    func testTheLockFileIsPrivateAndNeverALink() throws {
        let path = NSTemporaryDirectory() + "vshare-lock-mode-\(getpid())"
        defer { unlink(path) }
        _ = try AllocationLock(paths: [path])
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o077, 0, "no access for group or others")
        let link = path + ".link"
        defer { unlink(link) }
        XCTAssertEqual(symlink(path, link), 0)
        do {
            _ = try AllocationLock(paths: [link])
            XCTFail("followed a symbolic link")
        } catch {
            XCTAssertEqual(error, .lockFailed(path: link, errno: ELOOP))
        }
    }
}
