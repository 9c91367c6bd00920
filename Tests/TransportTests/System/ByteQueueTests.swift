import XCTest
@testable import Transport

final class ByteQueueTests: XCTestCase {
    func testFIFOAcrossPartialConsumes() {
        var queue = ByteQueue()
        queue.append([1, 2, 3, 4])
        XCTAssertEqual(queue.consume { $0.count >= 2 ? 2 : 0 }, 2)
        queue.append([5])
        var seen: [UInt8] = []
        _ = queue.consume { seen = Array($0); return $0.count }
        XCTAssertEqual(seen, [3, 4, 5])
        XCTAssertTrue(queue.isEmpty)
    }

    /// A queue that once held a burst gives its storage back when it drains; a small one keeps
    /// (and reuses) its storage.
    func testDrainingAfterABurstGivesTheStorageBack() {
        var burst = ByteQueue(retainedCapacity: 100)
        burst.append([UInt8](repeating: 9, count: 1000))
        XCTAssertEqual(burst.consume { $0.count }, 1000)
        XCTAssertEqual(burst.capacity, 0)
        burst.append([1, 2])
        XCTAssertEqual(burst.count, 2)

        var small = ByteQueue(retainedCapacity: 100)
        small.append([UInt8](repeating: 9, count: 50))
        XCTAssertEqual(small.consume { $0.count }, 50)
        XCTAssertGreaterThanOrEqual(small.capacity, 50)
    }
}
