import XCTest
@testable import Wire

final class ConfigFileParserTests: XCTestCase {
    private func parse(_ text: String) throws -> [ConfigEntry] { try ConfigFileParser.parse(text) }

    private func refusal(_ text: String) -> ConfigFileError? {
        do {
            _ = try ConfigFileParser.parse(text)
            return nil
        } catch {
            return error
        }
    }

    func testEveryValueKindWithComments() throws {
        let text = """
        # the relay on relay.example.com
        domain = "share.example.com"   # wildcard DNS points here
        data-dir = '/var/lib/vshare-relay'

        loops = 4
        store = true
        hostname = ["relay.example.com", 'relay2.example.com',]
        empty = []
        """
        XCTAssertEqual(try parse(text), [
            ConfigEntry(key: "domain", value: .string("share.example.com"), line: 2),
            ConfigEntry(key: "data-dir", value: .string("/var/lib/vshare-relay"), line: 3),
            ConfigEntry(key: "loops", value: .integer(4), line: 5),
            ConfigEntry(key: "store", value: .boolean(true), line: 6),
            ConfigEntry(key: "hostname", value: .strings(["relay.example.com", "relay2.example.com"]), line: 7),
            ConfigEntry(key: "empty", value: .strings([]), line: 8),
        ])
    }

    func testEscapesAndLiteralStrings() throws {
        let entries = try parse(#"a = "q\"b\\s\tt\u00e9" "# + "\n" + #"b = 'C:\no\escapes'"#)
        XCTAssertEqual(entries.map(\.value), [.string("q\"b\\s\tté"), .string(#"C:\no\escapes"#)])
    }

    func testIntegersFollowTOML() throws {
        XCTAssertEqual(try parse("a = 1_000\nb = -5\nc = +7\nd = 0").map(\.value),
                       [.integer(1000), .integer(-5), .integer(7), .integer(0)])
        for bad in ["007", "1__0", "_1", "1_", "1.5", "0x10", "99999999999999999999", "1e3", "inf"] {
            XCTAssertNotNil(refusal("a = \(bad)"), "should refuse \(bad)")
        }
    }

    func testCRLFAndTabs() throws {
        XCTAssertEqual(try parse("a\t=\t\"x\"\r\nb = 2\r\n").map(\.value), [.string("x"), .integer(2)])
    }

    func testErrorsNameTheLine() {
        XCTAssertEqual(refusal("a = 1\n\n[limits]\n")?.line, 3)
        XCTAssertEqual(refusal("a = 1\nb = 2\na = 3")?.description, "line 3: 'a' is already set on line 1")
        XCTAssertEqual(refusal("\n\nshare-ttl = 8h")?.line, 3)
        XCTAssertTrue(refusal("share-ttl = 8h")!.problem.contains("put text in quotes"))
    }

    func testRefusesWhatTheSubsetLeavesOut() {
        let refused = [
            "[table]", "a.b = 1", "\"a\" = 1", "= 1", "a 1", "a =", "a = # nothing",
            "a = \"open", "a = 'open", "a = \"\"\"multi\"\"\"", "a = '''multi'''", "a = [1, 2]",
            "a = [\"x\"", "a = [\"x\" \"y\"]", "a = {b = 1}", "a = 1 2", "a = \"x\" y", "a = 1979-05-27",
            "a = \"bad \\q escape\"", "a = \"\\u12\"", "a = \"\\uD800\"", "a = \"tab\u{1}\"", "a = True",
        ]
        for text in refused {
            XCTAssertNotNil(refusal(text), "should refuse \(text.debugDescription)")
        }
    }

    func testRefusesOverlongLines() {
        XCTAssertNotNil(refusal("a = \"" + String(repeating: "x", count: ConfigFileParser.maxLineLength) + "\""))
        XCTAssertEqual(try parse("a = \"é\"").first?.value, .string("é"))
    }

    func testCommandLineValues() {
        XCTAssertEqual(ConfigValue.boolean(false).commandLineValues, ["off"])
        XCTAssertEqual(ConfigValue.integer(12).commandLineValues, ["12"])
        XCTAssertEqual(ConfigValue.strings(["a", "b"]).commandLineValues, ["a", "b"])
    }
}
