@testable import Store
import XCTest

final class SQLiteStatementTests: XCTestCase {
    private func table() throws -> SQLiteDatabase {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
        return database
    }

    func testBindsAndReadsEveryType() throws {
        let database = try table()
        let insert = try database.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)")
        try insert.bind(Int64.min, at: 1)
        try insert.bind(-2.5, at: 2)
        try insert.bind("héllo ✓ 'quoted' \"; DROP TABLE t; --", at: 3)
        try insert.bind([0, 1, 255, 0] as [UInt8], at: 4)
        try insert.bindNull(at: 5)
        try insert.run()

        let select = try database.prepare("SELECT i, r, s, b, n FROM t")
        XCTAssertEqual(try select.step(), .row)
        XCTAssertEqual(select.int64(at: 0), Int64.min)
        XCTAssertEqual(select.double(at: 1), -2.5)
        XCTAssertEqual(select.string(at: 2), "héllo ✓ 'quoted' \"; DROP TABLE t; --")
        XCTAssertEqual(select.blob(at: 3), [0, 1, 255, 0])
        XCTAssertTrue(select.isNull(at: 4))
        XCTAssertNil(select.string(at: 4))
        XCTAssertNil(select.blob(at: 4))
        XCTAssertNil(select.optionalInt64(at: 4))
        XCTAssertEqual(try select.step(), .done)
    }

    func testEmptyBlobAndOptionalsAreDistinctFromNull() throws {
        let database = try table()
        let insert = try database.prepare("INSERT INTO t (i, s, b, n) VALUES (?1, ?2, ?3, ?4)")
        try insert.bind(Int64?.none, at: 1)
        try insert.bind(String?.some(""), at: 2)
        try insert.bind([] as [UInt8], at: 3)
        try insert.bind(String?.none, at: 4)
        try insert.run()
        let select = try database.prepare("SELECT i, s, b, n, typeof(b) FROM t")
        XCTAssertEqual(try select.step(), .row)
        XCTAssertNil(select.optionalInt64(at: 0))
        XCTAssertEqual(select.string(at: 1), "")
        XCTAssertEqual(select.blob(at: 2), [])
        XCTAssertNil(select.string(at: 3))
        XCTAssertEqual(select.string(at: 4), "blob")
    }

    func testResetClearsBindingsForReuse() throws {
        let database = try table()
        let insert = try database.prepare("INSERT INTO t (i, s) VALUES (?1, ?2)")
        for i in 0..<3 {
            try insert.bind(i, at: 1)
            if i == 0 { try insert.bind("first", at: 2) }
            try insert.run()
        }
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM t"), 3)
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM t WHERE s IS NULL"), 2, "bindings must not leak into the next run")
        XCTAssertEqual(try scalar(database, "SELECT sum(i) FROM t"), 3)
    }

    func testAFailedStepThrowsAndLeavesTheStatementUsable() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE u (name TEXT UNIQUE)")
        let insert = try database.prepare("INSERT INTO u VALUES (?1)")
        try insert.bind("a", at: 1)
        try insert.run()
        try insert.bind("a", at: 1)
        XCTAssertThrowsError(try insert.run()) { error in
            guard case .sqlite(_, _, let code, let message) = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(code & 0xff, 19, "SQLITE_CONSTRAINT")
            XCTAssertTrue(message.contains("UNIQUE"), message)
        }
        try insert.bind("b", at: 1)
        try insert.run()
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM u"), 2)
    }

    func testPrepareReportsBadSQL() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        XCTAssertThrowsError(try database.prepare("SELECT FROM nowhere")) { error in
            guard case .sqlite(let operation, _, _, _) = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(operation.contains("prepare"), operation)
        }
    }
}
