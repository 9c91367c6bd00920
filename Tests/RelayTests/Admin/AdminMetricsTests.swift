import XCTest
import Wire
@testable import Relay

/// `GET /metrics`: Prometheus text for admin tokens only (it counts every user's shares).
final class AdminMetricsTests: XCTestCase {
    private let app = AdminApp(
        authenticator: FakeAuthenticator(users: ["admin-token": AdminUser(name: "admin", isAdmin: true),
                                                 "alice-token": AdminUser(name: "alice", isAdmin: false)]),
        directory: FakeDirectory([]), logBook: FakeLogBook(), secure: false,
        metrics: { PrometheusText.render([MetricFamily("vshare_shares_live", .gauge, help: "Shares live now.", value: 2)]) })

    private func scrape(_ headers: [(String, String)], method: String = "GET") -> AdminResponse {
        let head = HTTPRequestHead(method: method, target: "/metrics", headers: HTTPHeaders([("Host", "127.0.0.1:7444")] + headers))
        return app.respond(to: AdminRequest(head: head, body: [], client: "10.0.0.9"), now: 1000)
    }

    func testAdminTokenGetsPrometheusText() {
        let response = scrape([("Authorization", "Bearer admin-token")])
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.contentType, PrometheusText.contentType)
        XCTAssertTrue(String(decoding: response.body, as: UTF8.self).contains("vshare_shares_live 2\n"))
    }

    func testOtherUsersAndStrangersAreRefused() {
        XCTAssertEqual(scrape([("Authorization", "Bearer alice-token")]).status, 403)
        XCTAssertEqual(scrape([("Authorization", "Bearer wrong")]).status, 401)
        XCTAssertEqual(scrape([]).status, 401)
        XCTAssertEqual(scrape([("Authorization", "Bearer admin-token")], method: "POST").status, 405)
    }

    func testRoute() {
        XCTAssertEqual(AdminRoute.route(method: "GET", target: "/metrics"), .metrics)
        XCTAssertEqual(AdminRoute.route(method: "GET", target: "/metrics?x=1"), .metrics)
    }
}
