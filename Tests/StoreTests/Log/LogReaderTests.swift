import Foundation
@testable import Store
import XCTest

final class LogReaderTests: XCTestCase {
    private var temporary: TemporaryDatabase!
    private var database: SQLiteDatabase!
    private var reader: LogReader!
    private var inserter: LogInserter!

    override func setUpWithError() throws {
        temporary = TemporaryDatabase()
        database = try temporary.open()
        reader = LogReader(database: database)
        inserter = try LogInserter(database: database)
    }

    private func request(_ path: String, status: Int = 200, share: String = "a", second: Double, bytes: Int64 = 10) throws {
        try inserter.insert(.access(AccessLogEntry(share: share, time: Date(timeIntervalSince1970: 1_700_000_000 + second),
                                                   client: "10.0.0.2", method: "GET", path: path, status: status, bytes: bytes,
                                                   durationMilliseconds: 4, userAgent: "curl/7.88.1")))
    }

    private func paths(_ rows: [Logged<AccessLogEntry>]) -> [String] { rows.map(\.entry.path) }

    func testOneSharesRequestsNewestFirst() throws {
        try request("/1", second: 1)
        try request("/other", share: "b", second: 2)
        try request("/2", second: 3)
        let rows = try reader.accessLog(share: "a", filter: AccessLogFilter())
        XCTAssertEqual(paths(rows), ["/2", "/1"])
        XCTAssertEqual(rows[0].entry.userAgent, "curl/7.88.1")
        XCTAssertGreaterThan(rows[0].id, rows[1].id)
    }

    func testReadsBackTheRefusalAndTheSideThatCutAResponseShort() throws {
        let time = Date(timeIntervalSince1970: 1_700_000_000)
        for (path, refusal, aborted) in [("/done", nil, nil), ("/refused", "allow-ip", nil), ("/big", nil, "client"),
                                         ("/cut", nil, "machine")] as [(String, String?, String?)] {
            try inserter.insert(.access(AccessLogEntry(share: "a", time: time, client: "10.0.0.2", method: "GET", path: path,
                                                       status: 200, bytes: 1, durationMilliseconds: 1, userAgent: "",
                                                       refusalReason: refusal, aborted: aborted)))
        }
        let rows = try reader.accessLog(share: "a", filter: AccessLogFilter())
        XCTAssertEqual(paths(rows), ["/cut", "/big", "/refused", "/done"])
        XCTAssertEqual(rows.map(\.entry.aborted), ["machine", "client", nil, nil])
        XCTAssertEqual(rows.map(\.entry.refusalReason), [nil, nil, "allow-ip", nil])
    }

    func testTheMultiRowInsertKeepsEachRowsAbortingSideInItsRow() throws {
        // 40 rows in one batch: the first 32 through the multi-row INSERT, the rest one by one.
        let batch = PackedRows(capacity: 1 << 16)
        for index in 0..<40 {
            XCTAssertTrue(batch.append(.access(AccessLogEntry(
                share: "a", time: Date(timeIntervalSince1970: 1_700_000_000), client: "10.0.0.2", method: "GET", path: "/\(index)",
                status: 200, bytes: 1, durationMilliseconds: 1, userAgent: "", aborted: index % 7 == 3 ? "relay" : nil))))
        }
        try inserter.insert(batch)
        let rows = try reader.accessLog(share: "a", filter: AccessLogFilter(limit: 100))
        XCTAssertEqual(rows.count, 40)
        for row in rows {
            let index = Int(row.entry.path.dropFirst())!
            XCTAssertEqual(row.entry.aborted, index % 7 == 3 ? "relay" : nil, row.entry.path)
        }
    }

    func testFiltersByStatusClass() throws {
        try request("/ok", status: 200, second: 1)
        try request("/moved", status: 301, second: 2)
        try request("/missing", status: 404, second: 3)
        try request("/refused", status: 403, second: 4)
        try request("/broken", status: 502, second: 5)
        XCTAssertEqual(paths(try reader.accessLog(share: "a", filter: AccessLogFilter(status: .init("4xx")))), ["/refused", "/missing"])
        XCTAssertEqual(paths(try reader.accessLog(share: "a", filter: AccessLogFilter(status: .init("5XX")))), ["/broken"])
    }

    func testPathFilterTakesWildcardsLiterally() throws {
        try request("/a%b", second: 1)
        try request("/axb", second: 2)
        try request("/a_c", second: 3)
        try request("/abc", second: 4)
        try request("/x\\y", second: 5)
        XCTAssertEqual(paths(try reader.accessLog(share: "a", filter: AccessLogFilter(pathContains: "a%b"))), ["/a%b"])
        XCTAssertEqual(paths(try reader.accessLog(share: "a", filter: AccessLogFilter(pathContains: "a_c"))), ["/a_c"])
        XCTAssertEqual(paths(try reader.accessLog(share: "a", filter: AccessLogFilter(pathContains: "\\"))), ["/x\\y"])
        XCTAssertEqual(paths(try reader.accessLog(share: "a", filter: AccessLogFilter(pathContains: "' OR 1=1 --"))), [])
    }

    func testPagesByBeforeAndPollsByAfter() throws {
        for i in 1...5 { try request("/\(i)", second: Double(i)) }
        let first = try reader.accessLog(share: "a", filter: AccessLogFilter(limit: 2))
        XCTAssertEqual(paths(first), ["/5", "/4"])
        let second = try reader.accessLog(share: "a", filter: AccessLogFilter(before: first.last?.id, limit: 2))
        XCTAssertEqual(paths(second), ["/3", "/2"])
        let last = try reader.accessLog(share: "a", filter: AccessLogFilter(before: second.last?.id, limit: 2))
        XCTAssertEqual(paths(last), ["/1"])
        try request("/6", second: 6)
        try request("/7", share: "b", second: 7)
        try request("/8", second: 8)
        let polled = try reader.accessLog(share: "a", filter: AccessLogFilter(after: first[0].id, limit: 1))
        XCTAssertEqual(paths(polled), ["/8"])
        XCTAssertEqual(paths(try reader.accessLog(share: "a", filter: AccessLogFilter(before: polled[0].id, after: first[0].id))), ["/6"],
                       "a poll's next page")
    }

    func testRowsOfTheSameMillisecondStillPageInOrder() throws {
        for i in 1...4 { try request("/\(i)", second: 1) }
        let first = try reader.accessLog(share: "a", filter: AccessLogFilter(limit: 3))
        XCTAssertEqual(paths(first), ["/4", "/3", "/2"])
        XCTAssertEqual(paths(try reader.accessLog(share: "a", filter: AccessLogFilter(before: first.last?.id))), ["/1"])
    }

    func testAuditNewestFirstPaged() throws {
        for action in ["login", "share.created", "share.ended"] {
            try inserter.insert(.audit(AuditEntry(time: Date(timeIntervalSince1970: 1_700_000_000), actor: "admin", action: action)))
        }
        let page = try reader.audit(limit: 2)
        XCTAssertEqual(page.map(\.entry.action), ["share.ended", "share.created"])
        XCTAssertEqual(try reader.audit(before: page.last?.id, limit: 2).map(\.entry.action), ["login"])
    }

    func testConnectSessionsAndSSHEventsOfAShare() throws {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        try inserter.insert(.connectSession(ConnectSessionEntry(share: "a", client: "10.0.0.3", startedAt: start, endedAt: start + 5)))
        try inserter.insert(.connectSession(ConnectSessionEntry(share: "a", client: "10.0.0.4", startedAt: start + 10, endedAt: nil)))
        try inserter.insert(.connectSession(ConnectSessionEntry(share: "b", client: "10.0.0.5", startedAt: start, endedAt: nil)))
        try inserter.insert(.sshEvent(SSHEventEntry(share: "a", time: start, client: "10.0.0.3", kind: .proofRefused)))
        try inserter.insert(.sshEvent(SSHEventEntry(share: "a", time: start + 1, client: "10.0.0.3", kind: .keyReleased)))
        let sessions = try reader.connectSessions(share: "a", limit: 10)
        XCTAssertEqual(sessions.map(\.entry.client), ["10.0.0.4", "10.0.0.3"])
        XCTAssertNil(sessions[0].entry.endedAt)
        XCTAssertEqual(try reader.sshEvents(share: "a", limit: 10).map(\.entry.kind), [.keyReleased, .proofRefused])
    }
}
