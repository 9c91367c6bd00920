/// Out-of-order ranges of the receive stream, as absolute stream offsets. The bytes
/// themselves are already in the receive ring at their final place; this only remembers
/// which ranges beyond the in-order point are filled. Bounded: at most `maxRanges` holes are
/// tracked (a segment that would need more is dropped; the peer retransmits it), and every
/// range lies inside the receive window, so memory is bounded by the receive buffer.
struct ReassemblyQueue {
    static let maxRanges = 32
    private(set) var ranges: [Range<Int>] = []

    var isEmpty: Bool { ranges.isEmpty }
    /// End of the furthest stored range (or nil).
    var highestEnd: Int? { ranges.last?.upperBound }

    /// Adds `r`, merging overlaps; false (and nothing stored) if that would exceed `maxRanges`.
    mutating func insert(_ r: Range<Int>) -> Bool {
        guard !r.isEmpty else { return true }
        // First range whose end reaches r's start (touching ranges merge).
        var i = 0
        while i < ranges.count && ranges[i].upperBound < r.lowerBound { i += 1 }
        var j = i
        var lower = r.lowerBound
        var upper = r.upperBound
        while j < ranges.count && ranges[j].lowerBound <= upper {
            lower = min(lower, ranges[j].lowerBound)
            upper = max(upper, ranges[j].upperBound)
            j += 1
        }
        if i == j {
            guard ranges.count < Self.maxRanges else { return false }
            ranges.insert(lower..<upper, at: i)
        } else {
            ranges.replaceSubrange(i..<j, with: CollectionOfOne(lower..<upper))
        }
        return true
    }

    /// If the first range starts at or before `point`, removes it and returns its end.
    mutating func popContiguous(at point: Int) -> Int? {
        guard let first = ranges.first, first.lowerBound <= point else { return nil }
        ranges.removeFirst()
        return max(first.upperBound, point)
    }

    mutating func removeAll() { ranges.removeAll(keepingCapacity: true) }
}
