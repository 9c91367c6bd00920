@testable import Store
import XCTest

final class SchemaTests: XCTestCase {
    private let tables = ["users", "shares", "access_log", "connect_sessions", "ssh_events", "audit"]

    func testMigratesAnEmptyDatabaseToTheCurrentSchema() throws {
        let temporary = TemporaryDatabase()
        let database = try temporary.open()
        XCTAssertEqual(Schema.version, 3)
        XCTAssertEqual(try Schema.userVersion(database), Schema.version)
        XCTAssertEqual(try scalar(database, "PRAGMA application_id"), Schema.applicationID)
        for table in tables {
            let statement = try database.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1")
            try statement.bind(table, at: 1)
            _ = try statement.step()
            XCTAssertEqual(statement.int64(at: 0), 1, table)
        }
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM sqlite_schema WHERE name = 'access_log_by_share'"), 1)
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'access_log'"), 1,
                       "each access-log row feeds one index")
    }

    func testReopeningIsIdempotentAndKeepsData() throws {
        let temporary = TemporaryDatabase()
        do {
            let database = try temporary.open()
            try database.execute("INSERT INTO audit (time, actor, action, subject, detail) VALUES (1, 'a', 'b', 'c', 'd')")
        }
        let database = try temporary.open()
        try Schema.migrate(database)
        XCTAssertEqual(try Schema.userVersion(database), Schema.version)
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM audit"), 1)
    }

    func testADatabaseFromANewerVshareIsRefusedUntouched() throws {
        let temporary = TemporaryDatabase()
        do {
            let database = try temporary.open()
            try database.execute("PRAGMA user_version = 7")
        }
        let database = try SQLiteDatabase(path: temporary.path)
        XCTAssertThrowsError(try Schema.migrate(database)) { error in
            XCTAssertEqual(error as? StoreError, .newerSchema(path: temporary.path, found: 7, known: Schema.version))
            XCTAssertTrue("\(error)".contains("was written by a newer vshare (schema 7, this vshare knows 3)"), "\(error)")
        }
        XCTAssertEqual(try Schema.userVersion(database), 7)
    }

    func testAnotherProgramsDatabaseIsRefused() throws {
        let temporary = TemporaryDatabase()
        do {
            let database = try SQLiteDatabase(path: temporary.path)
            try database.execute("CREATE TABLE cookies (name TEXT)")
        }
        XCTAssertThrowsError(try temporary.open()) { error in
            guard case .notVshareDatabase = error as? StoreError else { return XCTFail("\(error)") }
        }
        let other = TemporaryDatabase()
        do {
            let database = try SQLiteDatabase(path: other.path)
            try database.execute("PRAGMA application_id = 42")
            try database.execute("PRAGMA user_version = 1")
        }
        XCTAssertThrowsError(try other.open()) { error in
            guard case .notVshareDatabase(_, let detail) = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("42"), detail)
        }
    }

    func testVersionTwoCountsTotalsAndDigestsResumeSecretsOfAVersionOneDatabase() throws {
        let temporary = TemporaryDatabase()
        do {
            let database = try SQLiteDatabase(path: temporary.path)
            try Schema.migrate(database, with: [SchemaV1.migration])
            try database.execute("""
                INSERT INTO shares (name, target, options_json, resume_secret, created_at) VALUES ('a', '', '{}', 'abc', 1), ('b', '', '{}', 'r', 1);
                INSERT INTO shares (name, target, options_json, resume_secret, created_at, ended_at, end_reason)
                VALUES ('c', '', '{}', 'old', 1, 2, 'expired');
                INSERT INTO access_log (share, time, client, method, path, status, bytes, duration_ms, user_agent)
                VALUES ('a', 1, 'c', 'GET', '/', 200, 10, 1, ''), ('a', 2, 'c', 'GET', '/', 200, 5, 1, ''), ('-', 3, 'c', 'GET', '/', 404, 0, 0, '');
                """)
        }
        let database = try temporary.open()
        XCTAssertEqual(try Schema.userVersion(database), Schema.version)
        XCTAssertEqual(try scalar(database, "SELECT requests * 1000 + bytes FROM shares WHERE name = 'a'"), 2_015)
        XCTAssertEqual(try scalar(database, "SELECT requests * 1000 + bytes FROM shares WHERE name = 'b'"), 0)
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM access_log"), 3, "rows are kept")
        let shares = ShareStore(database: database)
        XCTAssertEqual(try shares.share(named: "a")?.resumeSecret, ResumeSecretDigest.of("abc"), "a live share's secret becomes its digest")
        XCTAssertEqual(try shares.share(named: "c")?.resumeSecret, "", "an ended share's is never needed again")
    }

    func testVersionThreeAddsTheAbortedColumnAndKeepsAVersionTwoDatabasesRows() throws {
        let temporary = TemporaryDatabase()
        do {
            let database = try SQLiteDatabase(path: temporary.path)
            try Schema.migrate(database, with: [SchemaV1.migration, SchemaV2.migration])
            XCTAssertEqual(try Schema.userVersion(database), 2)
            try database.execute("""
                INSERT INTO access_log (share, time, client, method, path, status, bytes, duration_ms, user_agent, refusal_reason)
                VALUES ('a', 1, 'c', 'GET', '/', 200, 10, 1, '', NULL), ('a', 2, 'c', 'GET', '/x', 403, 0, 0, '', 'allow-ip');
                """)
        }
        let database = try temporary.open()
        XCTAssertEqual(try Schema.userVersion(database), 3)
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM access_log"), 2, "rows are kept")
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM access_log WHERE aborted IS NULL"), 2,
                       "whether an older row was cut short is not known")
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM access_log WHERE refusal_reason = 'allow-ip'"), 1)
        let rows = try LogReader(database: database).accessLog(share: "a", filter: AccessLogFilter())
        XCTAssertEqual(rows.map(\.entry.path), ["/x", "/"])
        XCTAssertEqual(rows.map(\.entry.aborted), [nil, nil])
    }

    func testStepsApplyInOrderAndUpgradeAnOlderDatabase() throws {
        let temporary = TemporaryDatabase()
        let v1 = Migration(version: 1, sql: "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);")
        let v2 = Migration(version: 2, sql: "ALTER TABLE t ADD COLUMN b INTEGER DEFAULT 5; INSERT INTO t (a) VALUES (2);")
        do {
            let database = try SQLiteDatabase(path: temporary.path)
            try Schema.migrate(database, with: [v1])
            XCTAssertEqual(try Schema.userVersion(database), 1)
        }
        let database = try SQLiteDatabase(path: temporary.path)
        try Schema.migrate(database, with: [v1, v2])
        XCTAssertEqual(try Schema.userVersion(database), 2)
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM t"), 2, "v1 ran once, v2 once")
        XCTAssertEqual(try scalar(database, "SELECT sum(b) FROM t"), 10)
    }

    func testAFailingStepRollsBackToThePreviousVersion() throws {
        let temporary = TemporaryDatabase()
        let v1 = Migration(version: 1, sql: "CREATE TABLE t (a INTEGER);")
        let broken = Migration(version: 2, sql: "CREATE TABLE u (a INTEGER); INSERT INTO missing VALUES (1);")
        let database = try SQLiteDatabase(path: temporary.path)
        XCTAssertThrowsError(try Schema.migrate(database, with: [v1, broken]))
        XCTAssertEqual(try Schema.userVersion(database), 1)
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM sqlite_schema WHERE name = 'u'"), 0)
    }
}
