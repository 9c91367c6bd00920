import XCTest
@testable import Relay

final class ShareHostTests: XCTestCase {
    func testNamesFromHostHeaders() {
        let domain = "share.test"
        XCTAssertEqual(ShareHost.name(fromHost: "frosty-weasel-0857.share.test", domain: domain), "frosty-weasel-0857")
        XCTAssertEqual(ShareHost.name(fromHost: "frosty-weasel-0857.share.test:8080", domain: domain), "frosty-weasel-0857")
        XCTAssertEqual(ShareHost.name(fromHost: "Frosty-Weasel-0857.SHARE.test.", domain: domain), "frosty-weasel-0857")
        XCTAssertNil(ShareHost.name(fromHost: "share.test", domain: domain))
        XCTAssertNil(ShareHost.name(fromHost: "frosty-weasel-0857.other.test", domain: domain))
        XCTAssertNil(ShareHost.name(fromHost: "a.frosty-weasel-0857.share.test", domain: domain), "no sub-subdomains")
        XCTAssertNil(ShareHost.name(fromHost: "frosty-weasel-085.share.test", domain: domain))
        XCTAssertNil(ShareHost.name(fromHost: nil, domain: domain))
        XCTAssertNil(ShareHost.name(fromHost: "10.0.0.1:8080", domain: domain))
    }

    func testAccessLogKeepsOneLine() {
        XCTAssertEqual(AccessLog.sanitize("/a b\"c\r\nd"), "/a%20b%22c%0D%0Ad")
        XCTAssertEqual(AccessLog.sanitize(String(repeating: "x", count: 2000)).count, 512)
    }
}
