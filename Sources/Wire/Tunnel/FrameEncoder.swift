// Writes tunnel frames into a caller-owned byte buffer (no intermediate copies).

public enum FrameEncoder {
    /// Appends the 9-byte header then the payload. The frame should satisfy `validate()`;
    /// a payload longer than 2^24-1 bytes is a programming error and traps.
    public static func append(_ frame: Frame, to out: inout [UInt8]) {
        appendHeader(type: frame.type, flags: frame.flags, stream: frame.stream, length: frame.payload.count, to: &out)
        out.append(contentsOf: frame.payload)
    }

    /// Appends only the header; the caller appends exactly `length` payload bytes after it.
    /// Lets hot paths write payloads straight from their own buffers.
    public static func appendHeader(type: FrameType, flags: UInt8, stream: UInt32, length: Int, to out: inout [UInt8]) {
        precondition(length >= 0 && length <= TunnelProtocol.maxEncodablePayload,
                     "tunnel frame payload of \(length) bytes does not fit the 24-bit length field")
        out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.appendBigEndian(UInt16(truncatingIfNeeded: length))
        out.append(type.rawValue)
        out.append(flags)
        out.appendBigEndian(stream)
    }

    /// Convenience: one frame as a fresh array.
    public static func encode(_ frame: Frame) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(TunnelProtocol.headerSize + frame.payload.count)
        append(frame, to: &out)
        return out
    }
}
