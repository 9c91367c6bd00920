import CInterop
import COpenSSL
import Glibc
import Wire

/// Connect codes such as `417-acorn-zesty-mango`: a number from 1 to 999 (no leading zeros) and three
/// words of `ConnectCode.words` (the EFF short word list, 1296 words).
///
/// The sharer's agent prints one; the peer types it next to the share's name, and both sides run
/// SPAKE2 over it, so the relay in between learns nothing it could use offline and an attacker gets
/// one guess per pairing. 40 bits is the floor for that guess budget: log2(999) + 3·log2(1296) ≈ 41.
public enum ConnectCode {
    /// log2 of the number of distinct codes (≈ 40.99).
    public static let entropyBits: Double = log2(Double(numberRange.count)) + Double(wordCount) * log2(Double(words.count))

    static let numberRange = 1...999
    static let wordCount = 3

    /// A fresh code from OpenSSL's CSPRNG (RAND_bytes), every code equally likely.
    public static func generate() throws(PairingError) -> String {
        try generate { () throws(PairingError) -> UInt16 in
            var bytes: [UInt8] = [0, 0]
            guard RAND_bytes(&bytes, 2) == 1 else {
                throw .openSSL(call: "RAND_bytes", detail: OpenSSLError.drain())
            }
            return UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        }
    }

    /// The same with a caller's source of uniformly random 16-bit values (tests use scripted ones).
    static func generate<E: Error>(drawing next: () throws(E) -> UInt16) throws(E) -> String {
        let number = try uniform(below: numberRange.count, drawing: next) + numberRange.lowerBound
        var code = String(number)
        for _ in 0..<wordCount {
            code += "-" + words[try uniform(below: words.count, drawing: next)]
        }
        return code
    }

    /// A value uniform in 0..<bound from uniform 16-bit draws, by rejection: draws at or above the
    /// largest multiple of `bound` that fits in 16 bits are thrown away (taking them modulo `bound`
    /// would make the low values more likely). About 1% of draws are rejected for the bounds used here.
    static func uniform<E: Error>(below bound: Int, drawing next: () throws(E) -> UInt16) throws(E) -> Int {
        precondition(bound > 0 && bound <= 1 << 16)
        let limit = (1 << 16) - (1 << 16) % bound
        while true {
            let draw = Int(try next())
            if draw < limit { return draw % bound }
        }
    }

    /// The canonical form (`417-acorn-zesty-mango`) of a code as someone typed it: surrounding
    /// whitespace ignored, any case, parts separated by spaces, tabs, hyphens or underscores (runs of
    /// them count as one), the number with or without leading zeros.
    public static func normalize(_ typed: String) throws(ConnectCodeError) -> String {
        let trimmed = typed.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty else { throw .empty }
        let isSeparator: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "-" || $0 == "_" }
        let parts = trimmed.lowercased().split(whereSeparator: isSeparator)
        guard parts.count == 1 + wordCount else { throw .wrongShape(parts: parts.count) }
        let numberText = parts[0]
        guard numberText.count <= 3, numberText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let number = Int(numberText), numberRange.contains(number) else {
            throw .badNumber(String(numberText))
        }
        var code = String(number)
        for word in parts.dropFirst() {
            guard wordSet.contains(String(word)) else { throw .unknownWord(String(word)) }
            code += "-" + word
        }
        return code
    }

    static let wordSet = Set(words)
}
