/// Why a typed connect code is not one; descriptions are for the person who typed it.
public enum ConnectCodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing but whitespace was typed.
    case empty
    /// The code does not split into a number and three words (the count of parts found).
    case wrongShape(parts: Int)
    /// The first part is not a number from 1 to 999.
    case badNumber(String)
    /// A part is not in the connect-code word list (a typo, or a word of another list).
    case unknownWord(String)

    static let example = "417-acorn-zesty-mango"

    public var description: String {
        switch self {
        case .empty:
            return "the connect code is empty: type the code the sharer gave you, a number and three words like \(Self.example)"
        case .wrongShape(let parts):
            return "a connect code is a number and three words, like \(Self.example), but this one has \(parts) part\(parts == 1 ? "" : "s"): check the code the sharer gave you"
        case .badNumber(let text):
            return "'\(text)' is not the number of a connect code (it starts with a number from 1 to 999, like \(Self.example)): check the code the sharer gave you"
        case .unknownWord(let word):
            return "'\(word)' is not a word of vshare connect codes: check the code the sharer gave you"
        }
    }
}
