import Glibc
import Transport
import TransportTesting
import XCTest
@testable import Relay

/// Checks run on the checker's own thread, in order, and answer on the caller's loop.
final class PasswordCheckerTests: XCTestCase {
    func testChecksRunOffTheLoopAndAnswerOnIt() throws {
        let loop = try EventLoop(name: "checker-test")
        loop.startThread()
        defer { loop.stop() }
        let checker = PasswordChecker(capacity: 4)
        let loopThread = loop.sync { pthread_self() }
        let onTheLoop = { pthread_equal(pthread_self(), loopThread) != 0 }
        let answered = expectation(description: "three answers")
        answered.expectedFulfillmentCount = 3
        let lock = Lock()
        var order: [Int] = []
        var checkedOnTheLoop = false, answeredOffTheLoop = false
        for (i, result) in [(1, true), (2, false), (3, true)] {
            let queued = checker.submit({
                lock.withLock { checkedOnTheLoop = checkedOnTheLoop || onTheLoop() }
                return result
            }, on: loop) { matched in
                lock.withLock {
                    answeredOffTheLoop = answeredOffTheLoop || !onTheLoop()
                    order.append(i)
                    XCTAssertEqual(matched, result)
                }
                answered.fulfill()
            }
            XCTAssertTrue(queued)
        }
        wait(for: [answered], timeout: 5)
        lock.withLock {
            XCTAssertEqual(order, [1, 2, 3])
            XCTAssertFalse(checkedOnTheLoop, "a check ran on the event loop")
            XCTAssertFalse(answeredOffTheLoop, "an answer came on another thread than the loop's")
        }
    }

    func testBeyondCapacityNothingIsQueued() throws {
        let loop = try EventLoop(name: "checker-full")
        loop.startThread()
        defer { loop.stop() }
        let checker = PasswordChecker(capacity: 1)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let done = expectation(description: "the held checks end")
        done.expectedFulfillmentCount = 2
        // The first check holds the thread; the second waits in the queue; the third finds it full.
        XCTAssertTrue(checker.submit({ started.signal(); release.wait(); return true }, on: loop) { _ in done.fulfill() })
        XCTAssertEqual(started.wait(timeout: .now() + 5), .success)
        XCTAssertTrue(checker.submit({ true }, on: loop) { _ in done.fulfill() })
        XCTAssertFalse(checker.submit({ true }, on: loop) { _ in XCTFail("answered a check that was refused") })
        release.signal()
        wait(for: [done], timeout: 5)
    }
}
