#if canImport(Glibc)
import Glibc
#endif

/// Draws share names such as `frosty-weasel-0857`: adjective, animal, four decimal digits.
///
/// Entropy: 1036 adjectives × 866 animals × 10 000 numbers = 8 971 760 000 names ≈ 33.06 bits
/// (see `bitsOfEntropy`; `WordLists.swift` holds the lists). Each part is drawn uniformly from
/// `SystemRandomNumberGenerator`, which on Linux reads the kernel CSPRNG (getrandom), and
/// `Int.random(in:using:)` rejects biased draws, so every name is equally likely.
/// A share name is a bearer capability for an HTTP share's public URL, so it must not be guessable
/// or enumerable: at ~33 bits an attacker probing 1 000 names/s needs ~50 days per expected hit on a
/// single live share; the relay should still rate-limit unknown-name requests.
public struct ShareNameGenerator: Sendable {
    public init() {}

    /// log2 of the number of distinct names.
    public static var bitsOfEntropy: Double {
        log2(Double(WordLists.adjectives.count)) + log2(Double(WordLists.animals.count)) + log2(10_000)
    }

    /// A fresh name for which `isTaken` returns false; redraws on collision.
    /// With ~9·10⁹ names and far fewer live shares a redraw is rare; the loop only spins forever
    /// if `isTaken` rejects every name.
    public func next(isTaken: (String) -> Bool) -> String {
        var rng = CSPRNG()
        return next(using: &rng, isTaken: isTaken)
    }

    /// The system CSPRNG (getrandom). The extra stored byte keeps the struct non-empty:
    /// ThreadSanitizer crashes on `inout` access to a zero-sized value, which would keep the relay
    /// from being run under it.
    private struct CSPRNG: RandomNumberGenerator {
        private var system = SystemRandomNumberGenerator()
        private var nonEmpty: UInt8 = 0
        mutating func next() -> UInt64 { system.next() }
    }

    /// Same as `next(isTaken:)` with a caller-chosen generator (tests use a seeded one).
    func next<R: RandomNumberGenerator>(using rng: inout R, isTaken: (String) -> Bool) -> String {
        while true {
            let name = Self.draw(using: &rng)
            if !isTaken(name) { return name }
        }
    }

    static func draw<R: RandomNumberGenerator>(using rng: inout R) -> String {
        let adjective = WordLists.adjectives[Int.random(in: 0..<WordLists.adjectives.count, using: &rng)]
        let animal = WordLists.animals[Int.random(in: 0..<WordLists.animals.count, using: &rng)]
        let number = Int.random(in: 0..<10_000, using: &rng)
        let digits = String(number)
        return adjective + "-" + animal + "-" + String(repeating: "0", count: 4 - digits.count) + digits
    }

    /// True if `name` has the shape of a share name: `[a-z]{3,10}-[a-z]{3,10}-[0-9]{4}`.
    /// This is a lexical check (cheap, safe to run on untrusted Host headers and paths); it does not
    /// require the words to be in the current lists, so names survive edits to `WordLists`.
    /// Use `isFromWordLists` for the stricter check.
    public static func isWellFormed(_ name: String) -> Bool {
        let parts = name.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard parts.count == 3 else { return false }
        let isLower: (UInt8) -> Bool = { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
        let isDigit: (UInt8) -> Bool = { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return (3...10).contains(parts[0].count) && parts[0].allSatisfy(isLower)
            && (3...10).contains(parts[1].count) && parts[1].allSatisfy(isLower)
            && parts[2].count == 4 && parts[2].allSatisfy(isDigit)
    }

    /// True if `name` is well formed and both words are in the current word lists.
    public static func isFromWordLists(_ name: String) -> Bool {
        guard isWellFormed(name) else { return false }
        let parts = name.split(separator: "-")
        return adjectiveSet.contains(String(parts[0])) && animalSet.contains(String(parts[1]))
    }

    private static let adjectiveSet = Set(WordLists.adjectives)
    private static let animalSet = Set(WordLists.animals)
}
