/// The project's one whitespace trimmer: spaces, tabs, CR and LF at either end. HTTP's optional
/// whitespace (OWS) is spaces and tabs only, but the head parser has already split lines and
/// rejected bare CRs, so no CR or LF can reach a field value it trims.
public extension StringProtocol where SubSequence == Substring {
    func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) })
        else { return self[endIndex...] }
        return self[start...end]
    }
}
