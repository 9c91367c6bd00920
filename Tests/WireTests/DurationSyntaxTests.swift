import XCTest
@testable import Wire

final class DurationSyntaxTests: XCTestCase {
    func testSingleUnits() {
        XCTAssertEqual(DurationSyntax.parse("30s"), 30)
        XCTAssertEqual(DurationSyntax.parse("10m"), 600)
        XCTAssertEqual(DurationSyntax.parse("8h"), 28_800)
        XCTAssertEqual(DurationSyntax.parse("1d"), 86_400)
    }

    func testPlainSecondsAndWhitespace() {
        XCTAssertEqual(DurationSyntax.parse("90"), 90)
        XCTAssertEqual(DurationSyntax.parse(" 8h\n"), 28_800)
        XCTAssertEqual(DurationSyntax.parse("007"), 7)
    }

    func testCompounds() {
        XCTAssertEqual(DurationSyntax.parse("1h30m"), 5_400)
        XCTAssertEqual(DurationSyntax.parse("1d12h"), 129_600)
        XCTAssertEqual(DurationSyntax.parse("2h0m30s"), 7_230)
        XCTAssertEqual(DurationSyntax.parse("1d1h1m1s"), 90_061)
        XCTAssertEqual(DurationSyntax.parse("90m"), 5_400)
    }

    func testRejectsMalformed() {
        for bad in ["", "   ", "0", "0s", "0h0m", "-5", "-5m", "+5", "5x", "5 m", "1h 30m", "h", "m30",
                    "1.5h", "1H", "1h30", "30m1h", "1h1h", "1hh", "1s1m", "ten", "5ms", "٣s"] {
            XCTAssertNil(DurationSyntax.parse(bad), "should reject \(bad.debugDescription)")
        }
    }

    func testRejectsOverflow() {
        XCTAssertNil(DurationSyntax.parse("99999999999999999999"))
        XCTAssertNil(DurationSyntax.parse("999999999999999999d"))
        XCTAssertNil(DurationSyntax.parse("\(Int.max / 86_400)d\(Int.max)s"))
        XCTAssertEqual(DurationSyntax.parse("\(Int.max)"), Int.max)
        XCTAssertEqual(DurationSyntax.parse("\(Int.max)s"), Int.max)
    }

    func testFormat() {
        XCTAssertEqual(DurationSyntax.format(seconds: 28_800), "8h")
        XCTAssertEqual(DurationSyntax.format(seconds: 5_400), "1h30m")
        XCTAssertEqual(DurationSyntax.format(seconds: 45), "45s")
        XCTAssertEqual(DurationSyntax.format(seconds: 86_400), "1d")
        XCTAssertEqual(DurationSyntax.format(seconds: 90_061), "1d1h1m1s")
        XCTAssertEqual(DurationSyntax.format(seconds: 0), "0s")
        XCTAssertEqual(DurationSyntax.format(seconds: -90), "-1m30s")
        XCTAssertFalse(DurationSyntax.format(seconds: Int.min).isEmpty)
    }

    func testRoundTrip() {
        var rng = SystemRandomNumberGenerator()
        for value in [1, 59, 60, 61, 3_599, 3_600, 86_399, 86_400, 1_000_000, Int.max] {
            XCTAssertEqual(DurationSyntax.parse(DurationSyntax.format(seconds: value)), value)
        }
        for _ in 0..<1_000 {
            let value = Int.random(in: 1...10_000_000, using: &rng)
            XCTAssertEqual(DurationSyntax.parse(DurationSyntax.format(seconds: value)), value)
        }
    }
}
