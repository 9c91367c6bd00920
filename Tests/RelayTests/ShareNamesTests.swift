import Foundation
import TestSupport
import XCTest
@testable import Relay


final class ShareNamesTests: XCTestCase {
    private let pattern = try! NSRegularExpression(pattern: "^[a-z]{3,10}-[a-z]{3,10}-[0-9]{4}$")

    private func matches(_ name: String) -> Bool {
        pattern.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }

    func testFormat() {
        let generator = ShareNameGenerator()
        for _ in 0..<2_000 {
            let name = generator.next { _ in false }
            XCTAssertTrue(matches(name), name)
            XCTAssertTrue(ShareNameGenerator.isWellFormed(name), name)
            XCTAssertTrue(ShareNameGenerator.isFromWordLists(name), name)
            let parts = name.split(separator: "-").map(String.init)
            XCTAssertTrue(WordLists.adjectives.contains(parts[0]), name)
            XCTAssertTrue(WordLists.animals.contains(parts[1]), name)
        }
    }

    func testEntropy() {
        XCTAssertGreaterThanOrEqual(ShareNameGenerator.bitsOfEntropy, 32)
        let expected = log2(Double(WordLists.adjectives.count) * Double(WordLists.animals.count) * 10_000)
        XCTAssertEqual(ShareNameGenerator.bitsOfEntropy, expected, accuracy: 1e-9)
        XCTAssertGreaterThanOrEqual(Double(WordLists.adjectives.count * WordLists.animals.count * 10_000),
                                    Double(UInt64(1) << 32))
        // The figure quoted in the source comments.
        XCTAssertEqual(ShareNameGenerator.bitsOfEntropy, 33.06, accuracy: 0.005)
    }

    func testWordListsAreValid() {
        for (label, list) in [("adjectives", WordLists.adjectives), ("animals", WordLists.animals)] {
            XCTAssertGreaterThanOrEqual(list.count, 660, label)
            XCTAssertEqual(Set(list).count, list.count, "\(label) has duplicates")
            XCTAssertEqual(list, list.sorted(), "\(label) should stay sorted")
            for word in list {
                XCTAssertTrue((3...10).contains(word.count), "\(label): \(word)")
                XCTAssertTrue(word.utf8.allSatisfy { $0 >= 97 && $0 <= 122 }, "\(label): \(word)")
            }
        }
        XCTAssertTrue(Set(WordLists.adjectives).isDisjoint(with: WordLists.animals),
                      "\(Set(WordLists.adjectives).intersection(WordLists.animals))")
    }

    func testIsWellFormed() {
        for good in ["frosty-weasel-0857", "abc-def-0000", "abcdefghij-abcdefghij-9999"] {
            XCTAssertTrue(ShareNameGenerator.isWellFormed(good), good)
        }
        for bad in ["", "frosty-weasel", "frosty-weasel-857", "frosty-weasel-08570", "Frosty-weasel-0857",
                    "frosty_weasel_0857", "frosty-weasel-0857-", "-frosty-weasel-0857", "ab-weasel-0857",
                    "abcdefghijk-weasel-0857", "frosty-weasel-08a7", "frosty--0857", "frosty-weasel-٠٨٥٧",
                    "frösty-weasel-0857", "frosty-weasel-0857.relay.example", "frosty weasel 0857"] {
            XCTAssertFalse(ShareNameGenerator.isWellFormed(bad), bad)
        }
        XCTAssertTrue(ShareNameGenerator.isWellFormed("xyz-qqq-1234"))
        XCTAssertFalse(ShareNameGenerator.isFromWordLists("xyz-qqq-1234"), "lexically fine but not from the lists")
    }

    func testCollisionRedraws() {
        var rng = SplitMix64(seed: 42)
        var asked: [String] = []
        let name = ShareNameGenerator().next(using: &rng) { candidate in
            asked.append(candidate)
            return asked.count <= 5  // the first five draws are "taken"
        }
        XCTAssertEqual(asked.count, 6)
        XCTAssertEqual(name, asked.last)
        XCTAssertTrue(ShareNameGenerator.isWellFormed(name))

        // With the system generator: a name already in use is never returned.
        var taken = Set<String>()
        let generator = ShareNameGenerator()
        let first = generator.next { _ in false }
        taken.insert(first)
        var calls = 0
        let second = generator.next { candidate in
            calls += 1
            return calls <= 3 || taken.contains(candidate)
        }
        XCTAssertGreaterThanOrEqual(calls, 4)
        XCTAssertFalse(taken.contains(second))
    }

    func testManyDrawsAreDistinctAndSpread() {
        let generator = ShareNameGenerator()
        var names = Set<String>()
        var adjectives = Set<Substring>()
        var animals = Set<Substring>()
        var digits = [Int](repeating: 0, count: 10)
        let count = 20_000
        for _ in 0..<count {
            let name = generator.next { names.contains($0) }
            XCTAssertTrue(names.insert(name).inserted)
            let parts = name.split(separator: "-")
            adjectives.insert(parts[0])
            animals.insert(parts[1])
            for d in parts[2].utf8 { digits[Int(d - 48)] += 1 }
        }
        XCTAssertEqual(names.count, count)
        // 20 000 uniform draws should touch almost every word (expected misses ≈ n·e^(-20000/n)).
        XCTAssertGreaterThan(adjectives.count, WordLists.adjectives.count * 99 / 100)
        XCTAssertGreaterThan(animals.count, WordLists.animals.count * 99 / 100)
        // Each digit appears ~8000 times; a loose bound catches a broken generator, never a fair one.
        for (digit, n) in digits.enumerated() {
            XCTAssertTrue((7_000...9_000).contains(n), "digit \(digit): \(n)")
        }
    }

    func testSeededDrawsAreReproducible() {
        var a = SplitMix64(seed: 7)
        var b = SplitMix64(seed: 7)
        let namesA = (0..<50).map { _ in ShareNameGenerator.draw(using: &a) }
        let namesB = (0..<50).map { _ in ShareNameGenerator.draw(using: &b) }
        XCTAssertEqual(namesA, namesB)
        XCTAssertEqual(Set(namesA).count, 50)
    }
}
