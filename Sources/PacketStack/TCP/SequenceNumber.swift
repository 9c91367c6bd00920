/// TCP sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): `a - b` as a signed distance,
/// valid while the two are less than 2^31 apart, which the windows here guarantee.
@inline(__always)
func seqDistance(_ a: UInt32, _ b: UInt32) -> Int {
    Int(Int32(bitPattern: a &- b))
}

@inline(__always) func seqLT(_ a: UInt32, _ b: UInt32) -> Bool { seqDistance(a, b) < 0 }
@inline(__always) func seqLE(_ a: UInt32, _ b: UInt32) -> Bool { seqDistance(a, b) <= 0 }

/// Sequence number of stream byte `offset` for a side whose initial sequence number is `isn`
/// (byte 0 follows the SYN). Offsets are 64-bit, so streams longer than 4 GiB are fine.
@inline(__always)
func seqAt(_ isn: UInt32, _ offset: Int) -> UInt32 {
    isn &+ 1 &+ UInt32(truncatingIfNeeded: offset)
}
