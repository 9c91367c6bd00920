import Foundation
@testable import Store
import XCTest

final class LogRetentionTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_700_000_000)

    private func insert(_ database: SQLiteDatabase, _ rows: [LogRow]) throws {
        let inserter = try LogInserter(database: database)
        try database.inTransaction { for row in rows { try inserter.insert(row) } }
    }

    func testRowsOlderThanTheMaximumAgeGoFromEveryLogTable() throws {
        let temporary = TemporaryDatabase()
        let database = try temporary.open()
        let old = now.addingTimeInterval(-31 * 86_400), recent = now.addingTimeInterval(-29 * 86_400)
        try insert(database, [
            LogRows.access(1, time: old), LogRows.access(2, time: recent),
            LogRows.audit("login", time: old), LogRows.audit("login", time: recent),
            .connectSession(ConnectSessionEntry(share: "s", client: "c", startedAt: old, endedAt: old)),
            .connectSession(ConnectSessionEntry(share: "s", client: "c", startedAt: recent, endedAt: nil)),
            .sshEvent(SSHEventEntry(share: "s", time: old, client: "c", kind: .keyReleased)),
            .sshEvent(SSHEventEntry(share: "s", time: recent, client: "c", kind: .keyReleased)),
        ])
        XCTAssertEqual(try LogRetention().apply(to: database, now: now), 4)
        for table in ["access_log", "audit", "connect_sessions", "ssh_events"] {
            XCTAssertEqual(try scalar(database, "SELECT count(*) FROM \(table)"), 1, table)
        }
        XCTAssertEqual(try scalar(database, "SELECT bytes FROM access_log"), 2)
    }

    func testEachTableKeepsOnlyItsNewestRowsBeyondTheCap() throws {
        let temporary = TemporaryDatabase()
        let database = try temporary.open()
        try insert(database, (0..<50).map { LogRows.access($0, time: now) } + (0..<3).map { _ in LogRows.audit("login", time: now) })
        let retention = LogRetention(maxAge: 86_400, maxRowsPerTable: 10)
        XCTAssertEqual(try retention.apply(to: database, now: now), 40)
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM access_log"), 10)
        XCTAssertEqual(try scalar(database, "SELECT min(bytes) FROM access_log"), 40, "the newest ten are kept")
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM audit"), 3, "a table under the cap is untouched")
        XCTAssertEqual(try retention.apply(to: database, now: now), 0)
    }

    func testLargeDeletionsGoInChunksAndStillDeleteEverything() throws {
        let temporary = TemporaryDatabase()
        let database = try temporary.open()
        let old = now.addingTimeInterval(-40 * 86_400)
        try insert(database, (0..<50).map { LogRows.access($0, time: $0 < 23 ? old : now) })
        let retention = LogRetention(maxAge: 30 * 86_400, maxRowsPerTable: 5)
        XCTAssertEqual(try retention.apply(to: database, now: now, chunk: 7), 45)
        XCTAssertEqual(try scalar(database, "SELECT min(bytes) FROM access_log"), 45)
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM access_log"), 5)
    }
}
