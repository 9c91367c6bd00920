@testable import Pairing
import XCTest

final class ConnectCodeTests: XCTestCase {
    func testTheWordListIsTheEFFShortListOf1296UniqueLowercaseWords() {
        XCTAssertEqual(ConnectCode.words.count, 1296)
        XCTAssertEqual(Set(ConnectCode.words).count, 1296)
        XCTAssertEqual(ConnectCode.words, ConnectCode.words.sorted())
        for word in ConnectCode.words {
            XCTAssertTrue((3...5).contains(word.count) && word.allSatisfy { ("a"..."z").contains($0) }, word)
        }
        XCTAssertEqual(ConnectCode.words.first, "acid")
        XCTAssertEqual(ConnectCode.words.last, "zoom")
    }

    func testCodesCarryAtLeast40Bits() {
        XCTAssertGreaterThanOrEqual(ConnectCode.entropyBits, 40)
        XCTAssertEqual(ConnectCode.entropyBits, log2(999) + 3 * log2(1296), accuracy: 1e-9)
    }

    func testAGeneratedCodeIsANumberWithoutLeadingZerosAndThreeWords() throws {
        for _ in 0..<200 {
            let code = try ConnectCode.generate()
            let parts = code.split(separator: "-", omittingEmptySubsequences: false)
            XCTAssertEqual(parts.count, 4, code)
            let number = try XCTUnwrap(Int(parts[0]), code)
            XCTAssertTrue((1...999).contains(number), code)
            XCTAssertEqual(String(number), String(parts[0]), "no leading zeros: \(code)")
            for word in parts.dropFirst() { XCTAssertTrue(ConnectCode.wordSet.contains(String(word)), code) }
        }
    }

    func testScriptedDrawsPickTheNumberAndWordsByIndex() throws {
        var draws: [UInt16] = [0, 0, 1, 1295, 998, 1295, 1295, 1295]
        let next = { () -> UInt16 in draws.removeFirst() }
        XCTAssertEqual(ConnectCode.generate(drawing: next), "1-acid-acorn-zoom")
        XCTAssertEqual(ConnectCode.generate(drawing: next), "999-zoom-zoom-zoom")
    }

    /// 65536 is no multiple of 999: the top 601 draws would make low numbers likelier, so they are redrawn.
    func testDrawsAboveTheLastWholeMultipleAreRejected() {
        var draws: [UInt16] = [65535, 64935, 64934]
        XCTAssertEqual(ConnectCode.uniform(below: 999) { draws.removeFirst() }, 64934 % 999)
        XCTAssertTrue(draws.isEmpty, "both draws at or above 64935 were rejected")
        draws = [64800, 64799]
        XCTAssertEqual(ConnectCode.uniform(below: 1296) { draws.removeFirst() }, 1295)
        XCTAssertTrue(draws.isEmpty)
    }

    func testEveryGeneratedCodeNormalizesToItself() throws {
        for _ in 0..<2000 {
            let code = try ConnectCode.generate()
            XCTAssertEqual(try ConnectCode.normalize(code), code)
        }
    }

    /// Chi-square per part over many real draws. The threshold is 6 standard deviations above the
    /// statistic's mean (degrees of freedom), so a correct generator fails about once in 10^9 runs.
    func testTheNumberAndEachWordAreUniform() throws {
        let draws = 24_000
        var numbers = [Int](repeating: 0, count: 999)
        var words = [[Int]](repeating: [Int](repeating: 0, count: 1296), count: 3)
        let index = Dictionary(uniqueKeysWithValues: ConnectCode.words.enumerated().map { ($1, $0) })
        for _ in 0..<draws {
            let parts = try ConnectCode.generate().split(separator: "-")
            numbers[Int(parts[0])! - 1] += 1
            for position in 0..<3 { words[position][index[String(parts[position + 1])]!] += 1 }
        }
        XCTAssertTrue(Self.looksUniform(numbers), "numbers: chi-square \(Self.chiSquare(numbers))")
        for position in 0..<3 {
            XCTAssertTrue(Self.looksUniform(words[position]), "word \(position + 1): chi-square \(Self.chiSquare(words[position]))")
        }
        XCTAssertEqual(numbers.reduce(0, +), draws)
    }

    /// The uniformity check is not vacuous: a sample where half the values come out 1.5× as often fails it.
    func testTheUniformityCheckCatchesASkewedSample() {
        let skewed = (0..<999).map { $0 < 500 ? 300 : 200 }
        XCTAssertFalse(Self.looksUniform(skewed))
        XCTAssertTrue(Self.looksUniform([Int](repeating: 24, count: 999)))
    }

    static func chiSquare(_ counts: [Int]) -> Double {
        let expected = Double(counts.reduce(0, +)) / Double(counts.count)
        return counts.reduce(0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
    }

    static func looksUniform(_ counts: [Int]) -> Bool {
        let degrees = Double(counts.count - 1)
        return chiSquare(counts) < degrees + 6 * (2 * degrees).squareRoot()
    }

    func testNormalizeAcceptsCaseSpacesHyphensUnderscoresAndLeadingZeros() throws {
        let cases: [(String, String)] = [
            ("417-acorn-zesty-mango", "417-acorn-zesty-mango"),
            ("  417-acorn-zesty-mango\n", "417-acorn-zesty-mango"),
            ("417 ACORN Zesty mango", "417-acorn-zesty-mango"),
            ("417_acorn_zesty_mango", "417-acorn-zesty-mango"),
            ("417 - acorn -- zesty\tmango", "417-acorn-zesty-mango"),
            ("007-acid-acid-acid", "7-acid-acid-acid"),
            ("999 zoom zoom zoom", "999-zoom-zoom-zoom"),
        ]
        for (typed, canonical) in cases {
            XCTAssertEqual(try ConnectCode.normalize(typed), canonical, typed)
        }
    }

    func testNormalizeRejectsWhatIsNotACodeAndSaysWhy() {
        let cases: [(String, ConnectCodeError)] = [
            ("", .empty),
            ("  \n", .empty),
            ("417-acorn-zesty", .wrongShape(parts: 3)),
            ("417-acorn-zesty-mango-acid", .wrongShape(parts: 5)),
            ("frosty-weasel-0857", .wrongShape(parts: 3)),
            ("0-acorn-zesty-mango", .badNumber("0")),
            ("1000-acorn-zesty-mango", .badNumber("1000")),
            ("0417-acorn-zesty-mango", .badNumber("0417")),
            ("acorn-417-zesty-mango", .badNumber("acorn")),
            ("４１７-acorn-zesty-mango", .badNumber("４１７")),
            ("417-orbti-zesty-mango", .unknownWord("orbti")),
            ("417-acorn-yo-yo", .unknownWord("yo")),
        ]
        for (typed, expected) in cases {
            XCTAssertThrowsError(try ConnectCode.normalize(typed), typed) { error in
                XCTAssertEqual(error as? ConnectCodeError, expected, typed)
            }
        }
    }

    func testErrorDescriptionsSayWhatIsWrongAndWhatToDo() {
        XCTAssertEqual(ConnectCodeError.unknownWord("orbti").description,
                       "'orbti' is not a word of vshare connect codes: check the code the sharer gave you")
        for error: ConnectCodeError in [.empty, .wrongShape(parts: 2), .badNumber("0"), .unknownWord("x")] {
            XCTAssertTrue(error.description.contains("the code the sharer gave you"), error.description)
        }
        XCTAssertTrue(ConnectCodeError.wrongShape(parts: 2).description.contains("2 parts"))
    }
}
