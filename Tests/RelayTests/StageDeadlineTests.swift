import XCTest
@testable import Relay
import Transport

final class StageDeadlineTests: XCTestCase {
    private var loop: EventLoop!
    private var deadline: StageDeadline!
    private var expired: [HTTPProxyTimeouts.Stage] = []   // touched on the loop only

    override func setUpWithError() throws {
        loop = try EventLoop(name: "deadline-test")
        loop.startThread()
        let timeouts = HTTPProxyTimeouts(head: 0.1, idle: 0.3, requestBody: 0.5, responseStart: 0.6, upgradedIdle: 0.2)
        loop.sync {
            self.deadline = StageDeadline(loop: self.loop, timeouts: timeouts)
            self.deadline.onExpiry = { self.expired.append($0) }
        }
    }

    override func tearDown() {
        loop.sync { self.deadline.stop() }
        loop.stop()
    }

    private func expiries(after seconds: Double) -> [HTTPProxyTimeouts.Stage] {
        Thread.sleep(forTimeInterval: seconds)
        var seen: [HTTPProxyTimeouts.Stage] = []
        loop.sync { seen = self.expired }
        return seen
    }

    func testTheStagesDeadlinePasses() {
        loop.sync { self.deadline.set(.head) }
        XCTAssertEqual(expiries(after: 0.4), [.head])
        loop.sync { XCTAssertNil(self.deadline.stage, "a passed deadline is cleared") }
    }

    func testRestartingPushesTheDeadlineLaterAndSettingTheSameStageDoesNot() {
        loop.sync { self.deadline.set(.requestBody) }
        for _ in 0..<8 {
            Thread.sleep(forTimeInterval: 0.1)
            loop.sync { self.deadline.set(.requestBody, restart: true) }   // a body read
        }
        XCTAssertEqual(expiries(after: 0), [], "reads every 0.1 s keep a 0.5 s body limit from passing")
        loop.sync { self.deadline.set(.responseStart) }
        Thread.sleep(forTimeInterval: 0.4)
        loop.sync { self.deadline.set(.responseStart) }   // the same stage: the deadline runs on
        XCTAssertEqual(expiries(after: 0.4), [.responseStart], "due 0.6 s after it was first set, not 1.0 s")
    }

    func testAnEarlierStageFiresAtItsOwnTime() {
        loop.sync { self.deadline.set(.idle) }        // 0.3 s
        loop.sync { self.deadline.set(.head) }        // 0.1 s: the timer must move earlier
        XCTAssertEqual(expiries(after: 0.2), [.head])
    }

    func testClearedOrStoppedDeadlinesNeverFire() {
        loop.sync { self.deadline.set(.head); self.deadline.clear() }
        XCTAssertEqual(expiries(after: 0.25), [])
        loop.sync { self.deadline.set(.head); self.deadline.stop() }
        XCTAssertEqual(expiries(after: 0.25), [])
    }
}
