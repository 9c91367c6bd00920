import XCTest
final class RelayTestsPlaceholder: XCTestCase { func testNothing() {} }
