/// How a fuzz target splits its input into the reads a parser would see: seed 0 → one chunk,
/// otherwise pseudo-random sizes (1–3 bytes when bit 6 of the seed is set, else 1–64), so every
/// split point gets exercised and any difference between splits is a parser bug.
public enum ChunkPlan {
    public static func ranges(count: Int, seed: UInt8) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var rng = SplitMix64(seed: UInt64(seed))
        var i = 0
        while i < count {
            let n = seed == 0 ? count : 1 + Int(rng.next() % UInt64(seed & 0x40 != 0 ? 3 : 64))
            out.append(i..<min(i + n, count))
            i += n
        }
        return out
    }
}
