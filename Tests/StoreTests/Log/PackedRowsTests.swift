import Foundation
@testable import Store
import XCTest

final class PackedRowsTests: XCTestCase {
    private func text(_ field: PackedRows.Field) -> String? {
        guard case .text(let bytes) = field else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func integer(_ field: PackedRows.Field) -> Int64? {
        guard case .integer(let value) = field else { return nil }
        return value
    }

    private func isNull(_ field: PackedRows.Field) -> Bool {
        if case .null = field { return true }
        return false
    }

    func testRowsComeBackAsTheirInsertsParametersInOrder() {
        let rows = PackedRows(capacity: 4096)
        let time = Date(timeIntervalSince1970: 1_700_000_000.123)
        XCTAssertTrue(rows.append(.access(AccessLogEntry(
            share: "s", time: time, client: "[2001:db8::1]:5000", method: "GET", path: "/ünïcode?q=\"x\"", status: 404,
            bytes: 12, durationMilliseconds: 7, userAgent: "", refusalReason: nil))))
        XCTAssertTrue(rows.append(.connectSession(ConnectSessionEntry(share: "s", client: "c", startedAt: time, endedAt: nil))))
        XCTAssertEqual(rows.rows, 2)
        let decoded = rows.decoded()
        XCTAssertEqual(decoded.count, 2)
        let access = decoded[0]
        XCTAssertEqual(access.count, 11)
        XCTAssertEqual(text(access[0]), "s")
        XCTAssertEqual(integer(access[1]), 1_700_000_000_123)
        XCTAssertEqual(text(access[2]), "[2001:db8::1]:5000")
        XCTAssertEqual(text(access[4]), "/ünïcode?q=\"x\"")
        XCTAssertEqual(integer(access[5]), 404)
        XCTAssertEqual(integer(access[6]), 12)
        XCTAssertEqual(integer(access[7]), 7)
        XCTAssertEqual(text(access[8]), "", "empty text is text, not NULL")
        XCTAssertTrue(isNull(access[9]))
        XCTAssertTrue(isNull(access[10]), "a response that completed has no aborting side")
        XCTAssertEqual(decoded[1].count, 4)
        XCTAssertTrue(isNull(decoded[1][3]))
    }

    func testARefusalAndAnAbortingSideAreTheLastTwoFieldsAndCountInTheSize() {
        let entry = AccessLogEntry(share: "s", time: Date(timeIntervalSince1970: 1), client: "c", method: "GET", path: "/big",
                                   status: 200, bytes: 1 << 20, durationMilliseconds: 900, userAgent: "curl", aborted: "client")
        let size = 1 + 4 * 9 + (5 + 1) + (5 + 1) + (5 + 3) + (5 + 4) + (5 + 4) + 1 + (5 + 6)
        let rows = PackedRows(capacity: size)
        XCTAssertTrue(rows.append(.access(entry)))
        XCTAssertEqual(rows.used, size, "the size computed before packing is exact")
        var refused = entry
        refused.refusalReason = "allow-ip"
        refused.aborted = nil
        let other = PackedRows(capacity: 4096)
        XCTAssertTrue(other.append(.access(refused)))
        XCTAssertTrue(other.append(.access(entry)))
        let decoded = other.decoded()
        XCTAssertEqual(text(decoded[0][9]), "allow-ip")
        XCTAssertTrue(isNull(decoded[0][10]))
        XCTAssertTrue(isNull(decoded[1][9]))
        XCTAssertEqual(text(decoded[1][10]), "client")
        XCTAssertFalse(PackedRows(capacity: size - 1).append(.access(entry)))
    }

    func testARowThatDoesNotFitLeavesTheBufferAsItWas() {
        let rows = PackedRows(capacity: 100)
        XCTAssertFalse(rows.append(LogRows.access(1, client: String(repeating: "x", count: 100))))
        XCTAssertEqual(rows.used, 0)
        XCTAssertTrue(rows.isEmpty)
        XCTAssertTrue(rows.append(LogRows.audit("a")))
        let used = rows.used
        XCTAssertFalse(rows.append(LogRows.access(2)))
        XCTAssertEqual(rows.used, used)
        rows.removeAll()
        XCTAssertTrue(rows.isEmpty)
        XCTAssertEqual(rows.used, 0)
    }
}
