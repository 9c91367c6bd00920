import XCTest
import Wire

final class HTMLTextTests: XCTestCase {
    func testMarkupBecomesText() {
        XCTAssertEqual(HTMLText.escape("/<img src=x onerror=alert(1)>"), "/&lt;img src=x onerror=alert(1)&gt;")
    }

    func testQuotesCannotEndAnAttribute() {
        XCTAssertEqual(HTMLText.escape(#"a" onclick='x'"#), "a&quot; onclick=&#39;x&#39;")
    }

    func testAmpersandFirstSoEscapesAreNotDoubled() {
        XCTAssertEqual(HTMLText.escape("&lt; & <"), "&amp;lt; &amp; &lt;")
    }

    func testPlainTextUnchanged() {
        XCTAssertEqual(HTMLText.escape("happy-cat-0001 ünïcode"), "happy-cat-0001 ünïcode")
    }
}
