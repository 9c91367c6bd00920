import Console
import XCTest

final class TerminalTextTests: XCTestCase {
    func testOrdinaryTextIsUnchanged() {
        for text in ["no share named ab-cd-1234", "http://ab-cd-1234.share.example.com:8080/", "café ☕ 共有", ""] {
            XCTAssertEqual(TerminalText.sanitized(text), text)
        }
    }

    func testEscapeSequencesAndControlsBecomeVisibleReplacements() {
        XCTAssertEqual(TerminalText.sanitized("bad\u{1B}[2J\u{1B}]0;owned\u{07}name"), "bad\u{FFFD}[2J\u{FFFD}]0;owned\u{FFFD}name")
        XCTAssertEqual(TerminalText.sanitized("line\r\nforged line"), "line\u{FFFD}\u{FFFD}forged line")
        XCTAssertEqual(TerminalText.sanitized("\u{9B}31m\u{7F}\u{0}"), "\u{FFFD}31m\u{FFFD}\u{FFFD}", "C1 CSI, DEL, NUL")
        XCTAssertEqual(TerminalText.sanitized("tab\there"), "tab\u{FFFD}here")
    }

    func testEscapedShowsTheCodes() {
        XCTAssertEqual(TerminalText.escaped("/a\u{1B}[1m\tb"), "/a%1B[1m%09b")
        XCTAssertEqual(TerminalText.escaped("x\u{9B}\u{202E}y"), "x%9B%u{202E}y")
        XCTAssertEqual(TerminalText.escaped("/plain/path?q=1"), "/plain/path?q=1")
    }

    func testBidirectionalOverridesAreReplaced() {
        XCTAssertEqual(TerminalText.sanitized("evil\u{202E}gpj.exe"), "evil\u{FFFD}gpj.exe")
        XCTAssertEqual(TerminalText.sanitized("\u{2066}a\u{2069}\u{200F}"), "\u{FFFD}a\u{FFFD}\u{FFFD}")
    }
}
