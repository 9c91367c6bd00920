import XCTest
import Wire
@testable import Relay

final class AdminAppTests: XCTestCase {
    private static func share(_ name: String) -> AdminShare {
        AdminShare(name: name, url: "http://\(name).share.test:8080", httpsAddress: nil, expiresIn: 3600, owner: "admin",
                   options: ["http", "connect"], agentConnected: true)
    }

    private let token = "owner-token"
    private var directory: FakeDirectory!
    private var logBook: FakeLogBook!
    private var app: AdminApp!

    override func setUp() {
        directory = FakeDirectory([Self.share("happy-cat-0001")])
        logBook = FakeLogBook()
        app = AdminApp(authenticator: OwnerTokenAuthenticator(ownerToken: token), directory: directory, logBook: logBook, secure: false)
    }

    private func request(_ method: String, _ target: String, body: String = "", headers: [(String, String)] = [],
                         client: String = "10.0.0.9") -> AdminResponse {
        var fields = HTTPHeaders([("Host", "127.0.0.1:7444")] + headers)
        if !body.isEmpty { fields.add(name: "Content-Type", value: "application/x-www-form-urlencoded") }
        let head = HTTPRequestHead(method: method, target: target, headers: fields)
        return app.respond(to: AdminRequest(head: head, body: Array(body.utf8), client: client), now: 1000)
    }

    private func header(_ response: AdminResponse, _ name: String) -> String? {
        response.headers.first { $0.0 == name }?.1
    }

    private func text(_ response: AdminResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    /// Signs in and returns the cookie header and the session's CSRF token.
    private func signIn() -> (cookie: String, csrf: String) {
        let login = request("POST", "/login", body: "token=\(token)")
        XCTAssertEqual(login.status, 303)
        let setCookie = header(login, "Set-Cookie") ?? ""
        let id = AdminCookie.sessionID(fromCookieHeader: String(setCookie.split(separator: ";")[0])) ?? ""
        return ("\(AdminCookie.name)=\(id)", app.sessions.lookup(id, now: 1000)?.csrfToken ?? "")
    }

    func testPagesNeedASession() {
        let page = request("GET", "/")
        XCTAssertEqual(page.status, 303)
        XCTAssertEqual(header(page, "Location"), "/login")
        XCTAssertEqual(request("GET", "/login").status, 200)
    }

    func testLoginSetsTheSessionCookieAndShowsShares() {
        let (cookie, csrf) = signIn()
        let page = request("GET", "/", headers: [("Cookie", cookie)])
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(text(page).contains("happy-cat-0001"))
        XCTAssertTrue(text(page).contains("name=\"csrf\" value=\"\(csrf)\""))
        XCTAssertTrue(text(page).contains("action=\"/shares/happy-cat-0001/expire\""))
    }

    func testWrongTokenIsRefusedAndThrottledPerAddress() {
        for _ in 0..<AdminLoginThrottle.maxFailures {
            XCTAssertEqual(request("POST", "/login", body: "token=wrong").status, 403)
        }
        XCTAssertEqual(request("POST", "/login", body: "token=\(token)").status, 429, "even the right token waits")
        XCTAssertEqual(request("POST", "/login", body: "token=\(token)", client: "10.0.0.10").status, 303)
        XCTAssertEqual(request("GET", "/api/shares", headers: [("Authorization", "Bearer \(token)")]).status, 429)
        XCTAssertEqual(logBook.events.filter { $0 == .signInFailed(client: "10.0.0.9") }.count, AdminLoginThrottle.maxFailures,
                       "each refused token is audited with its address; throttled attempts are not")
        XCTAssertEqual(logBook.events.last, .signedIn(user: "admin", client: "10.0.0.10"))
    }

    func testExpireFormNeedsTheCSRFToken() {
        let (cookie, csrf) = signIn()
        XCTAssertEqual(request("POST", "/shares/happy-cat-0001/expire", headers: [("Cookie", cookie)]).status, 403)
        XCTAssertEqual(request("POST", "/shares/happy-cat-0001/expire", body: "csrf=wrong", headers: [("Cookie", cookie)]).status, 403)
        XCTAssertEqual(directory.expired, [])
        let done = request("POST", "/shares/happy-cat-0001/expire", body: "csrf=\(csrf)", headers: [("Cookie", cookie)])
        XCTAssertEqual(done.status, 303)
        XCTAssertEqual(directory.expired, ["happy-cat-0001"])
        XCTAssertEqual(request("POST", "/shares/happy-cat-0001/expire", body: "csrf=\(csrf)", headers: [("Cookie", cookie)]).status, 404)
    }

    func testExpireFormWithoutSessionGoesToLogin() {
        XCTAssertEqual(request("POST", "/shares/happy-cat-0001/expire", body: "csrf=x").status, 303)
        XCTAssertEqual(directory.expired, [])
    }

    func testLogoutEndsTheSession() {
        let (cookie, csrf) = signIn()
        XCTAssertEqual(request("POST", "/logout", headers: [("Cookie", cookie)]).status, 403)
        let out = request("POST", "/logout", body: "csrf=\(csrf)", headers: [("Cookie", cookie)])
        XCTAssertEqual(out.status, 303)
        XCTAssertEqual(header(out, "Set-Cookie"), AdminCookie.clearing(secure: false))
        XCTAssertEqual(logBook.events, [.signedIn(user: "admin", client: "10.0.0.9"), .signedOut(user: "admin", client: "10.0.0.9")])
        XCTAssertEqual(request("GET", "/", headers: [("Cookie", cookie)]).status, 303)
    }

    func testAPIWithBearerListsAndExpires() throws {
        let bearer = [("Authorization", "Bearer \(token)")]
        let list = request("GET", "/api/shares", headers: bearer)
        XCTAssertEqual(list.status, 200)
        XCTAssertEqual(list.contentType, "application/json")
        let decoded = try JSONDecoder().decode([String: [AdminShare]].self, from: Data(list.body))
        XCTAssertEqual(decoded["shares"], [Self.share("happy-cat-0001")])
        XCTAssertEqual(request("POST", "/api/shares/happy-cat-0001/expire", headers: bearer).status, 200)
        XCTAssertEqual(request("POST", "/api/shares/happy-cat-0001/expire", headers: bearer).status, 404)
        XCTAssertEqual(directory.expired, ["happy-cat-0001"])
        XCTAssertEqual(directory.origins.first, AdminExpireOrigin(.api, client: "10.0.0.9"))
    }

    func testEachWayOfExpiringSaysWhichItIs() {
        directory.shares = ["a-0001", "b-0002", "c-0003"].map { Self.share($0) }
        let (cookie, csrf) = signIn()
        XCTAssertEqual(request("POST", "/shares/a-0001/expire", body: "csrf=\(csrf)", headers: [("Cookie", cookie)]).status, 303)
        XCTAssertEqual(request("POST", "/api/shares/b-0002/expire?via=cli", headers: [("Authorization", "Bearer \(token)")]).status, 200)
        XCTAssertEqual(request("POST", "/api/shares/c-0003/expire?via=cli", headers: [("Cookie", cookie), ("X-CSRF-Token", csrf)]).status, 200)
        XCTAssertEqual(directory.origins.map(\.channel), [.web, .cli, .web], "only a bearer token's call can be the CLI")
        XCTAssertEqual(AdminExpireOrigin(.cli, client: "10.0.0.9").auditNote, "(cli from 10.0.0.9)")
    }

    func testAPIRefusesWrongOrMissingCredentials() {
        let wrong = request("GET", "/api/shares", headers: [("Authorization", "Bearer nope")])
        XCTAssertEqual(wrong.status, 401)
        XCTAssertEqual(header(wrong, "WWW-Authenticate"), "Bearer")
        XCTAssertEqual(request("GET", "/api/shares").status, 401)
        XCTAssertEqual(logBook.events, [.signInFailed(client: "10.0.0.9")], "a missing token is no sign-in attempt")
    }

    func testAPIWithTheSessionCookieNeedsTheCSRFHeaderToChangeAnything() {
        let (cookie, csrf) = signIn()
        XCTAssertEqual(request("GET", "/api/shares", headers: [("Cookie", cookie)]).status, 200)
        XCTAssertEqual(request("POST", "/api/shares/happy-cat-0001/expire", headers: [("Cookie", cookie)]).status, 403)
        XCTAssertEqual(request("POST", "/api/shares/happy-cat-0001/expire", headers: [("Cookie", cookie), ("X-CSRF-Token", csrf)]).status, 200)
    }

    func testEverythingShownIsEscaped() {
        directory.shares = [AdminShare(name: "happy-cat-0001", url: "http://x/<img src=x onerror=alert(1)>", httpsAddress: nil,
                                       expiresIn: 5, owner: "<b>eve</b>", options: ["\"><script>"], agentConnected: true)]
        let (cookie, _) = signIn()
        let page = text(request("GET", "/", headers: [("Cookie", cookie)]))
        XCTAssertFalse(page.contains("<img src=x"))
        XCTAssertFalse(page.contains("<b>eve"))
        XCTAssertFalse(page.contains("\"><script>"))
        XCTAssertTrue(page.contains("http://x/&lt;img src=x onerror=alert(1)&gt;"))
    }

    func testAPathWithMarkupIsShownAsText() {
        let page = text(request("GET", "/%3Cimg%20src=x%20onerror=alert(1)%3E"))
        XCTAssertTrue(page.contains("There is no page at /&lt;img src=x onerror=alert(1)&gt;."))
        XCTAssertFalse(page.contains("<img"))
    }

    func testAssetsAndUnknownPages() {
        let script = request("GET", "/assets/admin.js")
        XCTAssertEqual(script.status, 200)
        XCTAssertEqual(script.contentType, "text/javascript; charset=utf-8")
        XCTAssertEqual(request("GET", "/nope").status, 404)
        let wrongMethod = request("PUT", "/")
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(header(wrongMethod, "Allow"), "GET")
    }

    func testSecureCookieUnderHTTPS() {
        app = AdminApp(authenticator: OwnerTokenAuthenticator(ownerToken: token), directory: directory, logBook: logBook, secure: true)
        XCTAssertEqual(header(request("POST", "/login", body: "token=\(token)"), "Set-Cookie")?.hasSuffix("; Secure"), true)
    }
}
