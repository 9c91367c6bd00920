// Network byte order: the one set of big-endian helpers every codec uses, over any buffer of bytes
// indexed by Int ([UInt8], ArraySlice, UnsafeRawBufferPointer). They index like any subscript, so
// callers check bounds first: arrays trap on a bad index, but raw buffer pointers check only in debug
// builds (the codecs that use them verify lengths before every read or store).

public extension Collection where Element == UInt8, Index == Int {
    @inlinable func bigEndianUInt16(at i: Int) -> UInt16 {
        UInt16(self[i]) << 8 | UInt16(self[i + 1])
    }

    @inlinable func bigEndianUInt24(at i: Int) -> UInt32 {
        UInt32(self[i]) << 16 | UInt32(self[i + 1]) << 8 | UInt32(self[i + 2])
    }

    @inlinable func bigEndianUInt32(at i: Int) -> UInt32 {
        UInt32(self[i]) << 24 | UInt32(self[i + 1]) << 16 | UInt32(self[i + 2]) << 8 | UInt32(self[i + 3])
    }

    @inlinable func bigEndianUInt64(at i: Int) -> UInt64 {
        UInt64(bigEndianUInt32(at: i)) << 32 | UInt64(bigEndianUInt32(at: i + 4))
    }
}

public extension RangeReplaceableCollection where Element == UInt8 {
    @inlinable mutating func appendBigEndian(_ v: UInt16) {
        append(UInt8(truncatingIfNeeded: v >> 8))
        append(UInt8(truncatingIfNeeded: v))
    }

    @inlinable mutating func appendBigEndian(_ v: UInt32) {
        append(UInt8(truncatingIfNeeded: v >> 24))
        append(UInt8(truncatingIfNeeded: v >> 16))
        append(UInt8(truncatingIfNeeded: v >> 8))
        append(UInt8(truncatingIfNeeded: v))
    }

    @inlinable mutating func appendBigEndian(_ v: UInt64) {
        appendBigEndian(UInt32(truncatingIfNeeded: v >> 32))
        appendBigEndian(UInt32(truncatingIfNeeded: v))
    }
}

public extension MutableCollection where Element == UInt8, Index == Int {
    @inlinable mutating func storeBigEndian(_ v: UInt16, at i: Int) {
        self[i] = UInt8(truncatingIfNeeded: v >> 8)
        self[i + 1] = UInt8(truncatingIfNeeded: v)
    }

    @inlinable mutating func storeBigEndian(_ v: UInt32, at i: Int) {
        self[i] = UInt8(truncatingIfNeeded: v >> 24)
        self[i + 1] = UInt8(truncatingIfNeeded: v >> 16)
        self[i + 2] = UInt8(truncatingIfNeeded: v >> 8)
        self[i + 3] = UInt8(truncatingIfNeeded: v)
    }
}

// A raw buffer is a view of memory it does not own, so storing through it needs no `mutating`:
// the packet emitters take their output buffer as a plain parameter.
public extension UnsafeMutableRawBufferPointer {
    @inlinable func storeBigEndian(_ v: UInt16, at i: Int) {
        self[i] = UInt8(truncatingIfNeeded: v >> 8)
        self[i + 1] = UInt8(truncatingIfNeeded: v)
    }

    @inlinable func storeBigEndian(_ v: UInt32, at i: Int) {
        self[i] = UInt8(truncatingIfNeeded: v >> 24)
        self[i + 1] = UInt8(truncatingIfNeeded: v >> 16)
        self[i + 2] = UInt8(truncatingIfNeeded: v >> 8)
        self[i + 3] = UInt8(truncatingIfNeeded: v)
    }
}
