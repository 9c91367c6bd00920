import XCTest
@testable import Relay

final class HTTPProxyTimeoutsTests: XCTestCase {
    func testNamedStagesAreSetAndTheRestKeepTheirDefaults() throws {
        let timeouts = try HTTPProxyTimeouts.parse("body=2s, upgraded=10m,response=1m").get()
        XCTAssertEqual(timeouts.requestBody, 2)
        XCTAssertEqual(timeouts.upgradedIdle, 600)
        XCTAssertEqual(timeouts.responseStart, 60)
        XCTAssertEqual(timeouts.head, HTTPProxyTimeouts().head)
        XCTAssertEqual(timeouts.idle, HTTPProxyTimeouts().idle)
        XCTAssertEqual(timeouts.seconds(for: .requestBody), 2)
    }

    func testDefaultsAreNginxLike() {
        let d = HTTPProxyTimeouts()
        XCTAssertEqual([d.head, d.idle, d.requestBody, d.responseStart, d.upgradedIdle], [10, 75, 30, 60, 600])
    }

    func testBadItemsAreNamed() {
        for bad in ["", "body", "body=", "body=0s", "body=fast", "bodies=2s", "head=1s,,idle=2s"] {
            guard case .failure(let error) = HTTPProxyTimeouts.parse(bad) else { return XCTFail("accepted \(bad.debugDescription)") }
            XCTAssertTrue(error.description.contains("STAGE=DURATION"), error.description)
        }
    }
}
