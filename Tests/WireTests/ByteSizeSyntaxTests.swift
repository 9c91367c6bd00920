import Wire
import XCTest

final class ByteSizeSyntaxTests: XCTestCase {
    func testUnits() {
        XCTAssertEqual(ByteSizeSyntax.parse("65536"), 65536)
        XCTAssertEqual(ByteSizeSyntax.parse("512K"), 512 << 10)
        XCTAssertEqual(ByteSizeSyntax.parse("4M"), 4 << 20)
        XCTAssertEqual(ByteSizeSyntax.parse("4MiB"), 4 << 20)
        XCTAssertEqual(ByteSizeSyntax.parse("1g"), 1 << 30)
        XCTAssertEqual(ByteSizeSyntax.parse("16kb"), 16 << 10)
    }

    func testRejects() {
        for bad in ["", "M", "0", "-4M", "4T", "4.5M", "4 M", "99999999999999999999G", "0x10"] {
            XCTAssertNil(ByteSizeSyntax.parse(bad), bad)
        }
    }
}
