@testable import Store
import XCTest

final class AccessLogFilterTests: XCTestCase {
    func testStatusClasses() {
        XCTAssertEqual(AccessLogFilter.StatusClass("4xx")?.digit, 4)
        XCTAssertEqual(AccessLogFilter.StatusClass("2XX")?.text, "2xx")
        for bad in ["", "4", "6xx", "0xx", "44x", "4xxx", "all"] { XCTAssertNil(AccessLogFilter.StatusClass(bad), bad) }
    }

    func testLikePatternEscapesWildcards() {
        XCTAssertEqual(AccessLogFilter.likePattern(containing: "a%b_c\\d"), "%a\\%b\\_c\\\\d%")
    }

    func testLimitIsBounded() {
        XCTAssertEqual(AccessLogFilter(limit: 0).limit, 1)
        XCTAssertEqual(AccessLogFilter(limit: 1_000_000).limit, AccessLogFilter.maxLimit)
    }
}
