import XCTest
@testable import Relay

final class RecencyTableTests: XCTestCase {
    func testEvictsTheLeastRecentlyTouched() {
        var table = RecencyTable<String, Int>(capacity: 3)
        for key in ["a", "b", "c"] { table.touch(key, create: { 0 }) { $0 += 1 } }
        XCTAssertEqual(table.keysByRecency, ["c", "b", "a"])
        XCTAssertEqual(table.touchIfPresent("a") { $0 }, 1)
        XCTAssertEqual(table.keysByRecency, ["a", "c", "b"])
        table.touch("d", create: { 10 }) { $0 += 1 }
        XCTAssertEqual(table.keysByRecency, ["d", "a", "c"], "b was the least recent")
        XCTAssertNil(table.touchIfPresent("b") { $0 })
        XCTAssertEqual(table.count, 3)
        XCTAssertEqual(table.touchIfPresent("d") { $0 }, 11, "an evicted slot's new value is the created one")
    }

    func testOneEntryTableAndRepeatedTouches() {
        var table = RecencyTable<Int, Int>(capacity: 1)
        for i in 0..<5 { table.touch(i, create: { i }) { _ in } }
        XCTAssertEqual(table.keysByRecency, [4])
        table.touch(4, create: { 0 }) { $0 += 1 }
        XCTAssertEqual(table.touchIfPresent(4) { $0 }, 5)
    }
}
