import Foundation
@testable import Store
import XCTest

final class LogWriterTests: XCTestCase {
    private var temporary: TemporaryDatabase!

    override func setUp() { temporary = TemporaryDatabase() }

    private func writer(_ configure: (inout LogWriter.Configuration) -> Void = { _ in },
                        now: @escaping @Sendable () -> Date = Date.init) throws -> LogWriter {
        var configuration = LogWriter.Configuration()
        configure(&configuration)
        return try LogWriter(path: temporary.path, configuration: configuration, now: now)
    }

    private func count(_ table: String) throws -> Int64 {
        try scalar(try temporary.open(), "SELECT count(*) FROM \(table)")
    }

    func testEveryRowIsCommittedUnderNormalLoad() throws {
        let log = try writer()
        let time = Date(timeIntervalSince1970: 1_700_000_000.123)
        XCTAssertTrue(log.append(.access(AccessLogEntry(
            share: "s", time: time, client: "[2001:db8::1]:5000", method: "POST", path: "/<img src=x onerror=alert(1)>",
            status: 403, bytes: 12, durationMilliseconds: 7, userAgent: "Mozilla/5.0", refusalReason: "allow-ip"))))
        XCTAssertTrue(log.append(.connectSession(ConnectSessionEntry(share: "s", client: "10.0.0.3:1", startedAt: time, endedAt: nil))))
        XCTAssertTrue(log.append(.sshEvent(SSHEventEntry(share: "s", time: time, client: "10.0.0.4:2", kind: .proofRefused))))
        for index in 0..<9_997 { XCTAssertTrue(log.append(index % 100 == 0 ? LogRows.audit("login") : LogRows.access(index))) }
        log.close()
        XCTAssertEqual(log.written, 10_000)
        XCTAssertEqual(log.dropped, 0)
        XCTAssertNil(log.lastError)
        XCTAssertEqual(try count("access_log") + count("audit") + count("connect_sessions") + count("ssh_events"), 10_000)

        let database = try temporary.open()
        let first = try database.prepare(
            "SELECT share, time, client, method, path, status, bytes, duration_ms, user_agent, refusal_reason FROM access_log ORDER BY id LIMIT 1")
        XCTAssertEqual(try first.step(), .row)
        XCTAssertEqual(first.string(at: 0), "s")
        XCTAssertEqual(first.int64(at: 1), 1_700_000_000_123)
        XCTAssertEqual(first.string(at: 2), "[2001:db8::1]:5000")
        XCTAssertEqual(first.string(at: 3), "POST")
        XCTAssertEqual(first.string(at: 4), "/<img src=x onerror=alert(1)>")
        XCTAssertEqual(first.int64(at: 5), 403)
        XCTAssertEqual(first.int64(at: 6), 12)
        XCTAssertEqual(first.int64(at: 7), 7)
        XCTAssertEqual(first.string(at: 8), "Mozilla/5.0")
        XCTAssertEqual(first.string(at: 9), "allow-ip")
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM ssh_events WHERE kind = 'proof-refused'"), 1)
        XCTAssertEqual(try scalar(database, "SELECT count(*) FROM connect_sessions WHERE ended_at IS NULL"), 1)
    }

    func testEachBatchAddsItsRequestsAndBytesToTheirSharesTotals() throws {
        let shares = ShareStore(database: try temporary.open())
        for name in ["a", "b"] {
            try shares.save(ShareRecord(name: name, ownerID: nil, target: "t", optionsJSON: "{}", resumeSecret: "r",
                                        createdAt: Date(), expiresAt: nil))
        }
        let log = try writer { $0.batchSize = 7 }
        // 100 rows: whole multi-row INSERTs and single rows after them, other kinds in between.
        for index in 0..<100 {
            log.append(LogRows.access(index, share: index % 3 == 0 ? "b" : "a"))
            if index % 10 == 0 { log.append(LogRows.audit("login")) }
        }
        log.append(LogRows.access(5, share: "-"))
        log.close()
        XCTAssertEqual(log.dropped, 0)
        XCTAssertEqual(try count("access_log"), 101)
        XCTAssertEqual(try count("audit"), 10)
        let a = try XCTUnwrap(shares.share(named: "a")), b = try XCTUnwrap(shares.share(named: "b"))
        XCTAssertEqual(a.requests, 66)
        XCTAssertEqual(b.requests, 34)
        XCTAssertEqual(a.bytes + b.bytes, Int64((0..<100).reduce(0, +)))
        XCTAssertEqual(b.bytes, Int64(stride(from: 0, to: 100, by: 3).reduce(0, +)))
    }

    func testARowIsCommittedWithinTheFlushIntervalWithoutClosing() throws {
        let log = try writer { $0.flushInterval = 0.05 }
        log.append(LogRows.audit("login"))
        let deadline = Date().addingTimeInterval(5)
        while log.written < 1 && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(log.written, 1)
        XCTAssertEqual(try count("audit"), 1)
        log.close()
    }

    func testAFullQueueDropsAndCountsInsteadOfWaiting() throws {
        let log = try writer { $0.capacity = 8; $0.batchSize = 2; $0.flushInterval = 0 }
        // Another connection holds the write lock: the writer stalls as on a disk that cannot keep up.
        let holder = try temporary.open()
        try holder.execute("BEGIN IMMEDIATE")
        let started = Date()
        var accepted = 0
        for index in 0..<20 where log.append(LogRows.access(index)) { accepted += 1 }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "appending must never wait for the writer")
        XCTAssertEqual(accepted, 8)
        XCTAssertEqual(log.dropped, 12)
        try holder.execute("COMMIT")
        log.close()
        XCTAssertEqual(log.written, 8)
        XCTAssertEqual(log.dropped, 12)
        XCTAssertEqual(try count("access_log"), 8)
    }

    func testRowsTheDatabaseRefusesAreCountedAsDroppedWithTheError() throws {
        let log = try writer()
        try temporary.open().execute("DROP TABLE audit")
        log.append(LogRows.audit("login"))
        log.close()
        XCTAssertEqual(log.written, 0)
        XCTAssertEqual(log.dropped, 1)
        XCTAssertNotNil(log.lastError)
    }

    func testAppendsAfterCloseAreDropped() throws {
        let log = try writer()
        log.close()
        XCTAssertFalse(log.append(LogRows.audit("late")))
        XCTAssertEqual(log.dropped, 1)
        log.close()
    }

    func testConcurrentAppendersLoseNothingBelowCapacity() throws {
        let log = try writer { $0.batchSize = 500 }
        let threads = 4, perThread = 5_000
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread { log.append(LogRows.access(index, client: "10.0.0.\(thread):1")) }
        }
        log.close()
        XCTAssertEqual(log.dropped, 0)
        XCTAssertEqual(log.written, threads * perThread)
        let database = try temporary.open()
        for thread in 0..<threads {
            let rows = try database.prepare("SELECT count(DISTINCT path) FROM access_log WHERE client = ?1")
            try rows.bind("10.0.0.\(thread):1", at: 1)
            _ = try rows.step()
            XCTAssertEqual(rows.int64(at: 0), Int64(perThread), "thread \(thread)")
        }
    }

    func testTheWriterAppliesRetentionWhenItStarts() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let log = try writer({ $0.retention = LogRetention(maxAge: 86_400, maxRowsPerTable: 100) }, now: { now })
        log.append(LogRows.access(1, time: now.addingTimeInterval(-2 * 86_400)))
        log.append(LogRows.access(2, time: now))
        log.close()
        XCTAssertEqual(try count("access_log"), 2, "retention ran before these rows were written")

        let second = try writer({ $0.retention = LogRetention(maxAge: 86_400, maxRowsPerTable: 100) }, now: { now })
        second.close()
        XCTAssertEqual(try count("access_log"), 1, "the two-day-old row is gone")
    }

    /// The relay's SIGHUP: a new policy while the writer runs, applied at its next pass.
    func testANewRetentionAppliesWhileTheWriterRuns() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let log = try writer({ $0.retention = nil; $0.retentionInterval = 0.05 }, now: { now })
        log.append(LogRows.access(1, time: now.addingTimeInterval(-2 * 86_400)))
        log.append(LogRows.access(2, time: now))
        let deadline = Date().addingTimeInterval(5)
        while log.written < 2 && Date() < deadline { usleep(10_000) }
        log.setRetention(LogRetention(maxAge: 86_400, maxRowsPerTable: 100))
        while try count("access_log") > 1 && Date() < deadline { usleep(10_000) }
        log.close()
        XCTAssertEqual(try count("access_log"), 1, "the two-day-old row went at the next pass")
    }
}
