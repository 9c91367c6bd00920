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

/// The byte-level form of the same trimmer, for the HTTP parsers that work on a range of a buffer
/// in place (no String per field): HTTP's optional whitespace only, spaces and tabs. A CR or LF is
/// left in the range for the caller to reject as a control character.
extension Collection where Element == UInt8, Index == Int {
    func rangeTrimmingOptionalWhitespace(_ range: Range<Int>) -> Range<Int> {
        var start = range.lowerBound, end = range.upperBound
        while start < end && (self[start] == 0x20 || self[start] == 0x09) { start += 1 }
        while end > start && (self[end - 1] == 0x20 || self[end - 1] == 0x09) { end -= 1 }
        return start..<end
    }
}
