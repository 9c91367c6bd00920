// Incremental tunnel frame decoder: feed bytes as they arrive, pull whole frames out.
// O(n): consumed bytes are skipped with a read index and the buffer is compacted
// only when the consumed prefix is large, never per frame.

public struct FrameDecoder: Sendable {
    /// Largest payload accepted; a header announcing more fails with `.frameTooLarge`
    /// as soon as the header is complete, without waiting for (buffering) the payload.
    public let maxPayload: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Once a frame error happened the byte stream has lost framing; every later call repeats it.
    private var failure: FrameError?

    public init(maxPayload: Int = 1 << 20) {
        self.maxPayload = min(max(0, maxPayload), TunnelProtocol.maxEncodablePayload)
    }

    /// Bytes fed but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, !bytes.isEmpty else { return }
        compactIfUseful()
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func next() throws(FrameError) -> Frame? {
        if let failure { throw failure }
        let available = buffer.count - readIndex
        guard available >= TunnelProtocol.headerSize else { return nil }
        let r = readIndex
        let (length, typeByte, flags, stream) = buffer.withUnsafeBufferPointer { b in
            (Int(b.bigEndianUInt24(at: r)), b[r + 3], b[r + 4], b.bigEndianUInt32(at: r + 5))
        }
        guard let type = FrameType(rawValue: typeByte) else { return try fail(.unknownType(typeByte)) }
        guard length <= maxPayload else { return try fail(.frameTooLarge(length)) }
        guard available >= TunnelProtocol.headerSize + length else { return nil }
        let start = r + TunnelProtocol.headerSize
        let frame = Frame(type: type, flags: flags, stream: stream, payload: Array(buffer[start ..< start + length]))
        readIndex = start + length
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        do {
            try frame.validate()
        } catch {
            return try fail(error)
        }
        return frame
    }

    private mutating func fail(_ error: FrameError) throws(FrameError) -> Frame? {
        failure = error
        buffer = []
        readIndex = 0
        throw error
    }

    /// Drops the consumed prefix once it is at least half the buffer, so each byte is moved
    /// at most a constant number of times (amortised O(1) per byte).
    private mutating func compactIfUseful() {
        if readIndex > 0 && readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0 ..< readIndex)
            readIndex = 0
        }
    }
}
