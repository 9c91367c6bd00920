import Dispatch
import Glibc
import Transport
import TransportTesting
import XCTest
@testable import Relay

/// Checks run on the checker's own thread, in order, and answer on the caller's loop; the queue is
/// bounded overall and per client.
final class PasswordCheckerTests: XCTestCase {
    private var loop: EventLoop!

    override func setUpWithError() throws {
        loop = try EventLoop(name: "checker-test")
        loop.startThread()
    }

    override func tearDown() { loop.stop() }

    func testChecksRunOffTheLoopAndAnswerOnIt() {
        let checker = PasswordChecker(capacity: 4)
        let loopThread = loop.sync { pthread_self() }
        let onTheLoop = { pthread_equal(pthread_self(), loopThread) != 0 }
        let answered = expectation(description: "three answers")
        answered.expectedFulfillmentCount = 3
        let lock = Lock()
        var order: [Int] = []
        var checkedOnTheLoop = false, answeredOffTheLoop = false
        for (i, result) in [(1, true), (2, false), (3, true)] {
            let check = {
                lock.withLock { checkedOnTheLoop = checkedOnTheLoop || onTheLoop() }
                return result
            }
            let queued = checker.submit(check, for: "client-\(i)", on: loop) { matched in
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

    /// The first check holds the thread; then the queue fills, overall and per client, and frees.
    func testTheQueueIsBoundedOverallAndPerClient() {
        let checker = PasswordChecker(capacity: 2, perClient: 1)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let done = expectation(description: "the held checks end")
        done.expectedFulfillmentCount = 3
        XCTAssertTrue(checker.submit({ started.signal(); release.wait(); return true }, for: "a", on: loop) { _ in done.fulfill() })
        XCTAssertEqual(started.wait(timeout: .now() + 5), .success)
        XCTAssertFalse(checker.submit({ true }, for: "a", on: loop) { _ in XCTFail("a second check for one client") },
                       "one client holds its one place while its check runs")
        XCTAssertTrue(checker.submit({ true }, for: "b", on: loop) { _ in done.fulfill() })
        XCTAssertTrue(checker.submit({ true }, for: "c", on: loop) { _ in done.fulfill() })
        XCTAssertFalse(checker.submit({ true }, for: "d", on: loop) { _ in XCTFail("answered a check over capacity") })
        release.signal()
        wait(for: [done], timeout: 5)
        let again = expectation(description: "a's place is free again")
        XCTAssertTrue(checker.submit({ false }, for: "a", on: loop) { matched in
            XCTAssertEqual(matched, false)
            again.fulfill()
        })
        wait(for: [again], timeout: 5)
    }

    func testIPv6ClientsAreOnePer64() {
        XCTAssertEqual(GuessLimiter.client("2001:db8:1:2::1"), GuessLimiter.client("2001:db8:1:2:ffff::9"))
        XCTAssertNotEqual(GuessLimiter.client("2001:db8:1:2::1"), GuessLimiter.client("2001:db8:1:3::1"))
        XCTAssertNotEqual(GuessLimiter.client("192.0.2.1"), GuessLimiter.client("192.0.2.2"))
    }
}
