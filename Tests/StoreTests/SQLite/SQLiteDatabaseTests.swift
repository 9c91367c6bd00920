import Foundation
import Glibc
@testable import Store
import XCTest

final class SQLiteDatabaseTests: XCTestCase {
    func testAStatementPastItsTimeLimitIsStoppedAndTheLimitThenLifted() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        let endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
        let started = Date()
        XCTAssertThrowsError(try database.withTimeLimit(0.05) { _ = try database.prepare(endless).step() }) { error in
            XCTAssertEqual(error as? StoreError, .tooSlow(seconds: 0.05))
            XCTAssertTrue("\(error)".contains("longer than 50 ms"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(try database.withTimeLimit(0.05) { try scalar(database, "SELECT 7") }, 7)
        XCTAssertEqual(try scalar(database, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT count(*) FROM n"),
                       300_000, "no limit outside withTimeLimit")
    }

    func testOpensInWALModeWithForeignKeysAndAPrivateFile() throws {
        let temporary = TemporaryDatabase()
        let database = try SQLiteDatabase(path: temporary.path)
        let mode = try database.prepare("PRAGMA journal_mode")
        XCTAssertEqual(try mode.step(), .row)
        XCTAssertEqual(mode.string(at: 0), "wal")
        XCTAssertEqual(try scalar(database, "PRAGMA foreign_keys"), 1)
        var info = stat()
        XCTAssertEqual(stat(temporary.path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
    }

    func testAFileThatIsNotSQLiteIsRefusedAsNotAVshareDatabase() throws {
        let temporary = TemporaryDatabase()
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: temporary.path))
        XCTAssertThrowsError(try SQLiteDatabase(path: temporary.path)) { error in
            guard case .notVshareDatabase(let path, _) = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, temporary.path)
            XCTAssertTrue("\(error)".contains("is not a vshare database"), "\(error)")
        }
    }

    func testAMissingDirectoryCannotBeOpened() {
        XCTAssertThrowsError(try SQLiteDatabase(path: "/nonexistent-vshare-dir/relay.db")) { error in
            guard case .cannotOpen = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("/nonexistent-vshare-dir/relay.db"), "\(error)")
        }
    }

    func testATransactionThatThrowsIsRolledBack() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (x INTEGER)")
        struct Abort: Error {}
        XCTAssertThrowsError(try database.inTransaction {
            try database.execute("INSERT INTO t VALUES (1)")
            throw Abort()
        })
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM t"), 0)
        try database.inTransaction { try database.execute("INSERT INTO t VALUES (2)") }
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM t"), 1)
    }

    func testAWriterLockedByAnotherConnectionIsReportedAsLocked() throws {
        let temporary = TemporaryDatabase()
        let holder = try temporary.open()
        let waiter = try SQLiteDatabase(path: temporary.path, busyTimeout: 0.05)
        try holder.execute("BEGIN IMMEDIATE")
        XCTAssertThrowsError(try waiter.inTransaction {}) { error in
            XCTAssertEqual(error as? StoreError, .locked(path: temporary.path))
            XCTAssertTrue("\(error)".contains("\(temporary.path) is locked by another process"), "\(error)")
        }
        try holder.execute("COMMIT")
        XCTAssertNoThrow(try waiter.inTransaction {})
    }

    func testChangesAndLastInsertRowID() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)")
        try database.execute("INSERT INTO t (x) VALUES (1), (2), (3)")
        XCTAssertEqual(database.changes, 3)
        XCTAssertEqual(database.lastInsertRowID, 3)
    }
}
