import XCTest
@testable import Share

final class DetachedSessionsTests: XCTestCase {
    private let a = String(repeating: "a1", count: 32)
    private let b = String(repeating: "b2", count: 32)

    func testAKeptSessionIsTakenOnceByItsID() {
        var table = DetachedSessions<Int>(window: 30)
        XCTAssertNil(table.keep(1, id: a, now: 100))
        XCTAssertNil(table.keep(2, id: b, now: 100))
        XCTAssertEqual(table.take(id: b, now: 110), 2)
        XCTAssertNil(table.take(id: b, now: 110), "an ID resumes a session once")
        XCTAssertEqual(table.count, 1)
    }

    func testAWrongOrShortIDTakesNothing() {
        var table = DetachedSessions<Int>(window: 30)
        _ = table.keep(1, id: a, now: 0)
        XCTAssertNil(table.take(id: b, now: 1))
        XCTAssertNil(table.take(id: String(a.dropLast()), now: 1))
        XCTAssertNil(table.take(id: "", now: 1))
        XCTAssertEqual(table.count, 1)
    }

    func testTheWindowEndsASession() {
        var table = DetachedSessions<Int>(window: 30)
        _ = table.keep(1, id: a, now: 0)
        _ = table.keep(2, id: b, now: 20)
        XCTAssertNil(table.take(id: a, now: 30), "at the deadline the session is gone")
        XCTAssertEqual(table.expire(now: 30), [1])
        XCTAssertEqual(table.expire(now: 30), [])
        XCTAssertEqual(table.take(id: b, now: 49.9), 2)
    }

    func testBeyondCapacityTheOldestIsHandedBack() {
        var table = DetachedSessions<Int>(window: 30, capacity: 2)
        XCTAssertNil(table.keep(1, id: a, now: 0))
        XCTAssertNil(table.keep(2, id: b, now: 1))
        XCTAssertEqual(table.keep(3, id: String(repeating: "c3", count: 32), now: 2), 1)
        XCTAssertNil(table.take(id: a, now: 3))
        XCTAssertEqual(table.removeAll().sorted(), [2, 3])
        XCTAssertEqual(table.count, 0)
    }
}
