import Foundation
import Store
import Wire
import XCTest
@testable import Relay

final class AdminRecordRoutesTests: XCTestCase {
    private let admin = AdminUser(name: "admin", isAdmin: true)
    private let alice = AdminUser(name: "alice", isAdmin: false)
    private let bob = AdminUser(name: "bob", isAdmin: false)
    private var logBook: FakeLogBook!
    private var app: AdminApp!

    override func setUp() {
        logBook = FakeLogBook()
        logBook.owners = ["alice-share-0001": "alice"]
        logBook.logs["alice-share-0001"] = AdminShareLog(rows: (1...3).reversed().map { Self.row($0) })
        app = AdminApp(authenticator: FakeAuthenticator(users: ["t-admin": admin, "t-alice": alice, "t-bob": bob]),
                       directory: FakeDirectory([]), logBook: logBook, secure: false)
    }

    private static func row(_ id: Int64, path: String = "/page", status: Int = 200) -> AdminAccessRow {
        AdminAccessRow(id: id, time: "2026-11-28T20:00:0\(id).000Z", client: "10.0.0.2", method: "GET", path: path, status: status,
                       bytes: 100 + id, durationMs: 3, userAgent: "curl/7.88.1", refusal: nil)
    }

    private func request(_ target: String, token: String? = nil, cookie: String? = nil) -> AdminResponse {
        var fields = HTTPHeaders([("Host", "127.0.0.1:7444")])
        if let token { fields.add(name: "Authorization", value: "Bearer \(token)") }
        if let cookie { fields.add(name: "Cookie", value: cookie) }
        return app.respond(to: AdminRequest(head: HTTPRequestHead(method: "GET", target: target, headers: fields), client: "10.0.0.9"), now: 1000)
    }

    private func signIn(_ token: String) -> String {
        let head = HTTPRequestHead(method: "POST", target: "/login", headers: HTTPHeaders([("Host", "x")]))
        let login = app.respond(to: AdminRequest(head: head, body: Array("token=\(token)".utf8), client: "10.0.0.9"), now: 1000)
        let setCookie = login.headers.first { $0.0 == "Set-Cookie" }?.1 ?? ""
        return String(setCookie.split(separator: ";")[0])
    }

    private func text(_ response: AdminResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    private func json(_ response: AdminResponse) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func testTheOwnerReadsTheLogNewestFirstAndAnotherUserGets403() throws {
        let own = request("/api/shares/alice-share-0001/log", token: "t-alice")
        XCTAssertEqual(own.status, 200)
        let rows = try XCTUnwrap(try json(own)["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["id"] as? Int }, [3, 2, 1])
        XCTAssertEqual(rows[0]["userAgent"] as? String, "curl/7.88.1")
        XCTAssertEqual(request("/api/shares/alice-share-0001/log", token: "t-bob").status, 403)
        XCTAssertEqual(request("/api/shares/alice-share-0001/log", token: "t-admin").status, 200)
        XCTAssertEqual(request("/api/shares/no-such-share/log", token: "t-admin").status, 404)
        XCTAssertEqual(request("/shares/alice-share-0001", cookie: signIn("t-bob")).status, 403)
        XCTAssertEqual(request("/shares/alice-share-0001", cookie: signIn("t-alice")).status, 200)
        XCTAssertEqual(request("/shares/alice-share-0001").status, 303, "no session: to the sign-in page")
    }

    func testAPathWithMarkupIsShownAsTextInTheLog() {
        logBook.logs["alice-share-0001"] = AdminShareLog(
            rows: [Self.row(9, path: "/<img src=x onerror=alert(1)>")],
            connectSessions: [AdminConnectSession(client: "<b>peer</b>", startedAt: "t", endedAt: nil)],
            sshEvents: [AdminSSHEvent(time: "t", client: "\"><script>", kind: "key-released")])
        let page = text(request("/shares/alice-share-0001?path=%3Cscript%3E", cookie: signIn("t-alice")))
        XCTAssertTrue(page.contains("<td>/&lt;img src=x onerror=alert(1)&gt;</td>"))
        XCTAssertFalse(page.contains("<img"))
        XCTAssertFalse(page.contains("<b>peer"))
        XCTAssertFalse(page.contains("\"><script>"))
        XCTAssertFalse(page.contains("value=\"<script>\""), "the filter echoed in its form is escaped too")
        XCTAssertTrue(page.contains("value=\"&lt;script&gt;\""))
    }

    func testTheNoteSaysWhyARequestDidNotGetItsFullAnswer() throws {
        var refused = Self.row(4, path: "/admin", status: 403)
        refused.refusal = "allow-ip"
        var abandoned = Self.row(5, path: "/big")
        abandoned.aborted = "client"
        var cut = Self.row(6, path: "/stream")
        cut.aborted = "machine"
        logBook.logs["alice-share-0001"] = AdminShareLog(rows: [cut, abandoned, refused, Self.row(3)])
        let rows = try XCTUnwrap(try json(request("/api/shares/alice-share-0001/log", token: "t-alice"))["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["aborted"] as? String }, ["machine", "client", nil, nil])
        XCTAssertEqual(rows.map { $0["refusal"] as? String }, [nil, nil, "allow-ip", nil])
        XCTAssertNil(rows[3]["aborted"], "absent when the response completed")
        XCTAssertFalse(rows[3].keys.contains("aborted"))
        let page = text(request("/shares/alice-share-0001", cookie: signIn("t-alice")))
        XCTAssertTrue(page.contains("<th>Note</th>"))
        XCTAssertFalse(page.contains("Refused because"))
        XCTAssertTrue(page.contains("<td>curl/7.88.1</td><td>aborted by the machine</td>"))
        XCTAssertTrue(page.contains("<td>curl/7.88.1</td><td>aborted by the client</td>"))
        XCTAssertTrue(page.contains("<td>curl/7.88.1</td><td>allow-ip</td>"))
        XCTAssertTrue(page.contains("<td>curl/7.88.1</td><td></td>"), "a complete answer has no note")
    }

    func testFiltersReachTheLogBookAndBadOnesAre400() throws {
        XCTAssertEqual(request("/api/shares/alice-share-0001/log?status=4xx&path=%2Fapi%20x&before=7&after=2&limit=2", token: "t-alice").status, 200)
        XCTAssertEqual(logBook.lastFilter, AccessLogFilter(status: .init("4xx"), pathContains: "/api x", before: 7, after: 2, limit: 2))
        XCTAssertEqual(request("/api/shares/alice-share-0001/log?status=&path=", token: "t-alice").status, 200)
        XCTAssertEqual(logBook.lastFilter, AccessLogFilter(), "empty fields are what the form sends for any")
        for bad in ["status=6xx", "before=x", "after=-1", "limit=0"] {
            XCTAssertEqual(request("/api/shares/alice-share-0001/log?\(bad)", token: "t-alice").status, 400, bad)
        }
        XCTAssertEqual(request("/shares/alice-share-0001?status=nope", cookie: signIn("t-alice")).status, 400)
    }

    func testASearchPastItsTimeLimitSaysToNarrowIt() throws {
        logBook.slowShare = "alice-share-0001"
        let api = request("/api/shares/alice-share-0001/log?path=x", token: "t-alice")
        XCTAssertEqual(api.status, 400)
        XCTAssertEqual(try json(api)["error"] as? String, "the search took longer than 100 ms and was stopped: narrow it")
        let page = request("/shares/alice-share-0001?path=x", cookie: signIn("t-alice"))
        XCTAssertEqual(page.status, 400)
        XCTAssertTrue(text(page).contains("The search took longer than 100 ms and was stopped: narrow it."), text(page))
    }

    func testAFullPageLinksToTheOlderOne() throws {
        let api = try json(request("/api/shares/alice-share-0001/log?limit=2&status=2xx", token: "t-alice"))
        XCTAssertEqual(api["next"] as? Int, 2)
        XCTAssertNil(try json(request("/api/shares/alice-share-0001/log", token: "t-alice"))["next"], "the last page has no next")
        let page = text(request("/shares/alice-share-0001?limit=2&status=2xx", cookie: signIn("t-alice")))
        XCTAssertTrue(page.contains("href=\"/shares/alice-share-0001?status=2xx&amp;before=2\""))
        XCTAssertTrue(page.contains("data-live=\"1\""))
        let older = text(request("/shares/alice-share-0001?before=2", cookie: signIn("t-alice")))
        XCTAssertTrue(older.contains("data-live=\"0\""), "an older page does not poll")
    }

    func testHistoryShowsWhyAndTotals() throws {
        logBook.ended = [AdminEndedShare(name: "alice-share-0001", owner: "alice", target: "192.168.56.10 http:80",
                                         createdAt: "2026-11-28T19:00:00.000Z", endedAt: "2026-11-28T20:00:00.000Z", seconds: 3600,
                                         reason: "expired-web", reasonSummary: "expired from the web interface", requests: 12, bytes: 3400)]
        let page = text(request("/history", cookie: signIn("t-alice")))
        XCTAssertTrue(page.contains("expired from the web interface"))
        XCTAssertTrue(page.contains("<td>12</td><td>3400</td>"))
        XCTAssertTrue(page.contains("href=\"/shares/alice-share-0001\""))
        let shares = try XCTUnwrap(try json(request("/api/history", token: "t-bob"))["shares"] as? [Any])
        XCTAssertTrue(shares.isEmpty, "bob sees none of alice's history")
        let own = try XCTUnwrap(try json(request("/api/history", token: "t-alice"))["shares"] as? [[String: Any]])
        XCTAssertEqual(own.first?["reason"] as? String, "expired-web")
    }

    func testTheAuditTrailIsAdminsOnly() throws {
        logBook.auditRows = [AdminAuditRow(id: 5, time: "t", actor: "10.0.0.7", action: "login.failed", subject: "", detail: "<i>x</i>")]
        XCTAssertEqual(request("/api/audit", token: "t-alice").status, 403)
        XCTAssertEqual(request("/audit", cookie: signIn("t-alice")).status, 403)
        let rows = try XCTUnwrap(try json(request("/api/audit?before=9", token: "t-admin"))["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.first?["action"] as? String, "login.failed")
        XCTAssertEqual(logBook.lastAuditBefore, .some(9))
        let page = text(request("/audit", cookie: signIn("t-admin")))
        XCTAssertTrue(page.contains("&lt;i&gt;x&lt;/i&gt;"))
        XCTAssertTrue(text(request("/", cookie: signIn("t-admin"))).contains("href=\"/audit\""))
        XCTAssertFalse(text(request("/", cookie: signIn("t-alice"))).contains("href=\"/audit\""))
    }

    func testDroppedRowsAreShown() throws {
        logBook.dropped = 42
        XCTAssertTrue(text(request("/history", cookie: signIn("t-alice"))).contains("42 log rows were dropped"))
        XCTAssertEqual(try json(request("/api/shares/alice-share-0001/log", token: "t-alice"))["droppedLogRows"] as? Int, 42)
    }
}
