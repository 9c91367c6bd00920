import Foundation
@testable import Store
import XCTest

final class LogQueueTests: XCTestCase {
    func testRowsBeingWrittenStillCountAgainstTheCapacity() {
        let queue = LogQueue(capacity: 3, batchSize: 2, bufferBytes: 4096)
        XCTAssertTrue(queue.append(LogRows.access(0)))
        XCTAssertTrue(queue.append(LogRows.access(1)))
        var batch = queue.makeBatch()
        XCTAssertFalse(queue.take(into: &batch, flushInterval: 0, wakeBy: LogQueue.monotonicNow() + 1))
        XCTAssertEqual(batch.rows, 2)
        XCTAssertTrue(queue.append(LogRows.access(2)))
        XCTAssertFalse(queue.append(LogRows.access(3)), "two in flight and one queued fill a capacity of three")
        queue.finished(committed: 1, lost: 1)
        XCTAssertTrue(queue.append(LogRows.access(4)))
        XCTAssertEqual(queue.counts().written, 1)
        XCTAssertEqual(queue.counts().dropped, 2)
    }

    func testARowWhoseBytesDoNotFitIsDroppedAndCounted() {
        let queue = LogQueue(capacity: 100, batchSize: 50, bufferBytes: 300)
        XCTAssertTrue(queue.append(LogRows.access(0)))
        XCTAssertFalse(queue.append(LogRows.access(1, client: String(repeating: "x", count: 300))))
        XCTAssertTrue(queue.append(LogRows.audit("login")), "a smaller row still fits")
        XCTAssertEqual(queue.counts().dropped, 1)
        var batch = queue.makeBatch()
        _ = queue.take(into: &batch, flushInterval: 0, wakeBy: LogQueue.monotonicNow() + 1)
        XCTAssertEqual(batch.rows, 2)
    }

    func testTakeWaitsAtMostTheFlushIntervalForAFullerBatch() {
        let queue = LogQueue(capacity: 100, batchSize: 50, bufferBytes: 4096)
        XCTAssertTrue(queue.append(LogRows.access(0)))
        var batch = queue.makeBatch()
        let started = LogQueue.monotonicNow()
        _ = queue.take(into: &batch, flushInterval: 0.05, wakeBy: started + 10)
        let waited = LogQueue.monotonicNow() - started
        XCTAssertEqual(batch.rows, 1)
        XCTAssertGreaterThanOrEqual(waited, 0.04)
        XCTAssertLessThan(waited, 5)
    }

    func testAnEmptyTakeReturnsAtItsDeadlineAndCloseWakesIt() {
        let queue = LogQueue(capacity: 10, batchSize: 5, bufferBytes: 4096)
        var batch = queue.makeBatch()
        let started = LogQueue.monotonicNow()
        XCTAssertFalse(queue.take(into: &batch, flushInterval: 0.01, wakeBy: started + 0.05))
        XCTAssertTrue(batch.isEmpty)
        XCTAssertGreaterThanOrEqual(LogQueue.monotonicNow() - started, 0.04)

        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { queue.close() }
        XCTAssertTrue(queue.take(into: &batch, flushInterval: 0.01, wakeBy: LogQueue.monotonicNow() + 30))
        XCTAssertLessThan(LogQueue.monotonicNow() - started, 10)
    }
}
