/// Why a packet or header did not parse. Parsing never traps: every failure is one of these.
public enum WireError: Error, Equatable, Sendable {
    case truncated          // fewer bytes than the header or a length field says
    case badVersion         // not IPv4
    case badHeaderLength    // IHL < 5, or TCP data offset < 5, or beyond the buffer
    case badLength          // total/UDP length inconsistent with the buffer
    case badChecksum
    case badOption          // a TCP option with an impossible length
}

@inline(__always)
func loadBE16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
    UInt16(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

@inline(__always)
func loadBE32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
    UInt32(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
}

@inline(__always)
func storeBE16(_ p: UnsafeMutableRawPointer, _ offset: Int, _ v: UInt16) {
    p.storeBytes(of: v.bigEndian, toByteOffset: offset, as: UInt16.self)
}

@inline(__always)
func storeBE32(_ p: UnsafeMutableRawPointer, _ offset: Int, _ v: UInt32) {
    p.storeBytes(of: v.bigEndian, toByteOffset: offset, as: UInt32.self)
}
