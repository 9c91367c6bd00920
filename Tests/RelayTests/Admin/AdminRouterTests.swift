import XCTest
@testable import Relay

final class AdminRouterTests: XCTestCase {
    private func route(_ method: String, _ target: String) -> AdminRoute { AdminRoute.route(method: method, target: target) }

    func testPages() {
        XCTAssertEqual(route("GET", "/"), .sharesPage)
        XCTAssertEqual(route("HEAD", "/"), .sharesPage)
        XCTAssertEqual(route("GET", "/login"), .loginPage)
        XCTAssertEqual(route("POST", "/login"), .login)
        XCTAssertEqual(route("POST", "/logout"), .logout)
        XCTAssertEqual(route("POST", "/shares/happy-cat-0001/expire"), .expireForm(name: "happy-cat-0001"))
        XCTAssertEqual(route("GET", "/assets/admin.js"), .asset(name: "admin.js"))
        XCTAssertEqual(route("GET", "/assets/admin.css?v=1"), .asset(name: "admin.css"))
        XCTAssertEqual(route("GET", "/history"), .historyPage)
        XCTAssertEqual(route("GET", "/audit?before=3"), .auditPage)
        XCTAssertEqual(route("GET", "/shares/happy-cat-0001?status=4xx"), .shareLogPage(name: "happy-cat-0001"))
    }

    func testAPI() {
        XCTAssertEqual(route("GET", "/api/shares"), .apiShares)
        XCTAssertEqual(route("POST", "/api/shares/happy-cat-0001/expire"), .apiExpire(name: "happy-cat-0001"))
        XCTAssertEqual(route("GET", "/api/history"), .apiHistory)
        XCTAssertEqual(route("GET", "/api/audit"), .apiAudit)
        XCTAssertEqual(route("GET", "/api/shares/happy-cat-0001/log?after=5"), .apiShareLog(name: "happy-cat-0001"))
    }

    func testWrongMethodsAre405WithAllow() {
        XCTAssertEqual(route("GET", "/shares/happy-cat-0001/expire"), .methodNotAllowed(allow: "POST"))
        XCTAssertEqual(route("GET", "/logout"), .methodNotAllowed(allow: "POST"))
        XCTAssertEqual(route("POST", "/api/shares"), .methodNotAllowed(allow: "GET"))
        XCTAssertEqual(route("DELETE", "/login"), .methodNotAllowed(allow: "GET, POST"))
        XCTAssertEqual(route("POST", "/shares/happy-cat-0001"), .methodNotAllowed(allow: "GET"))
        XCTAssertEqual(route("POST", "/api/shares/happy-cat-0001/log"), .methodNotAllowed(allow: "GET"))
    }

    func testUnknownPathsAndImplausibleNames() {
        XCTAssertEqual(route("GET", "/nope"), .notFound)
        XCTAssertEqual(route("GET", "/assets/other.js"), .notFound)
        XCTAssertEqual(route("GET", "/api/shares/"), .notFound)
        XCTAssertEqual(route("POST", "/shares/<img>/expire"), .notFound)
        XCTAssertEqual(route("POST", "/shares/../expire"), .notFound)
        XCTAssertEqual(route("POST", "/api/shares/Upper/expire"), .notFound)
        XCTAssertEqual(route("POST", "/shares/a/b/expire"), .notFound)
        XCTAssertEqual(route("GET", "/shares/%3Cimg%3E"), .notFound)
        XCTAssertEqual(route("GET", "/api/shares/Upper/log"), .notFound)
    }
}
