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
        XCTAssertEqual(access.count, 10)
        XCTAssertEqual(text(access[0]), "s")
        XCTAssertEqual(integer(access[1]), 1_700_000_000_123)
        XCTAssertEqual(text(access[2]), "[2001:db8::1]:5000")
        XCTAssertEqual(text(access[4]), "/ünïcode?q=\"x\"")
        XCTAssertEqual(integer(access[5]), 404)
        XCTAssertEqual(integer(access[6]), 12)
        XCTAssertEqual(integer(access[7]), 7)
        XCTAssertEqual(text(access[8]), "", "empty text is text, not NULL")
        XCTAssertTrue(isNull(access[9]))
        XCTAssertEqual(decoded[1].count, 4)
        XCTAssertTrue(isNull(decoded[1][3]))
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
