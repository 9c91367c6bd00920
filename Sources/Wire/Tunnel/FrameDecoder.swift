// Incremental tunnel frame decoder. The hot entry point, `nextView(from:streamingData:)`, decodes
// frames straight out of the caller's buffer (the TLS read buffer) and hands out their payloads as
// views. DATA payloads can be streamed: a DATA frame cut by the end of a read comes out in pieces,
// each a view into the input it arrived in, so stream bytes are never copied on their way in (a
// 32 KiB frame spans several 16 KiB TLS records). Other frames cut by a read's end are copied, once,
// into a reusable reassembly buffer. `feed`/`next` are the owning, whole-frame form (tests, fuzzing).

/// A decoded frame (or, for streamed DATA, a piece of one) whose payload is borrowed: valid until
/// the next call into the decoder.
public struct FrameView {
    public let type: FrameType
    public let flags: UInt8
    public let stream: UInt32
    public let payload: UnsafeRawBufferPointer
    /// The whole frame's payload length (more than `payload.count` for a piece of streamed DATA).
    public let length: Int
    /// The piece that starts the frame: flow control checks `length` here.
    public let isFirstPiece: Bool
    /// The piece that ends the frame: its flags (FIN) apply here.
    public let isLastPiece: Bool

    init(type: FrameType, flags: UInt8, stream: UInt32, payload: UnsafeRawBufferPointer,
         length: Int? = nil, isFirstPiece: Bool = true, isLastPiece: Bool = true) {
        self.type = type
        self.flags = flags
        self.stream = stream
        self.payload = payload
        self.length = length ?? payload.count
        self.isFirstPiece = isFirstPiece
        self.isLastPiece = isLastPiece
    }

    public var isFin: Bool { type == .data && flags & FrameFlags.fin != 0 }

    /// An owning copy, for the rare frames whose payload outlives the call (control frames).
    public var frame: Frame { Frame(type: type, flags: flags, stream: stream, payload: Array(payload)) }
}

public struct FrameDecoder: Sendable {
    /// Largest payload accepted; a header announcing more fails with `.frameTooLarge`
    /// as soon as the header is complete, without waiting for (buffering) the payload.
    public let maxPayload: Int
    /// The frame cut by the end of an input buffer, header first, as far as it has arrived.
    private var partial: ReassemblyBuffer
    /// `partial` holds a whole frame that was handed out as a view; cleared on the next call.
    private var partialDelivered = false
    /// The DATA frame being streamed: its header and how many payload bytes are still to come.
    private var streaming: (flags: UInt8, stream: UInt32, length: Int, remaining: Int)?
    /// Bytes given to `feed` and not yet decoded by `next` (the owning entry point).
    private var fed: [UInt8] = []
    private var fedIndex = 0
    /// Once a frame error happened the byte stream has lost framing; every later call repeats it.
    private var failure: FrameError?

    public init(maxPayload: Int = 1 << 20) {
        self.maxPayload = min(max(0, maxPayload), TunnelProtocol.maxEncodablePayload)
        partial = ReassemblyBuffer()
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedByteCount: Int { fed.count - fedIndex + (partialDelivered ? 0 : partial.count) }

    /// The next frame, decoded from what was carried over from earlier input and then from `input`,
    /// which is advanced past the bytes used. Nil when `input` is used up: its tail (an incomplete
    /// frame) is kept. With `streamingData`, a DATA frame comes out as soon as its header is complete,
    /// in pieces (`isFirstPiece`/`isLastPiece`) as its payload arrives. The view's payload points
    /// into `input` or into this decoder and is valid until the next call.
    public mutating func nextView(from input: inout UnsafeRawBufferPointer, streamingData: Bool = false) throws(FrameError) -> FrameView? {
        if let failure { throw failure }
        if partialDelivered {
            clearPartial()
            partialDelivered = false
        }
        if let data = streaming {
            guard !input.isEmpty else { return nil }
            return nextPiece(of: data, from: &input, first: false)
        }
        if partial.count > 0 || input.count < TunnelProtocol.headerSize {
            return try nextFromPartial(&input, streamingData: streamingData)
        }
        let (type, flags, length, stream) = try header(input)
        if streamingData && type == .data {
            try checkDataHeader(stream: stream)
            input = UnsafeRawBufferPointer(rebasing: input[TunnelProtocol.headerSize...])
            return nextPiece(of: (flags, stream, length, length), from: &input, first: true)
        }
        guard input.count >= TunnelProtocol.headerSize + length else { return try nextFromPartial(&input, streamingData: false) }
        let payload = UnsafeRawBufferPointer(rebasing: input[TunnelProtocol.headerSize ..< TunnelProtocol.headerSize + length])
        input = UnsafeRawBufferPointer(rebasing: input[(TunnelProtocol.headerSize + length)...])
        return try validated(FrameView(type: type, flags: flags, stream: stream, payload: payload))
    }

    /// The next piece of a streamed DATA payload: what `input` holds of it, up to its end.
    private mutating func nextPiece(of data: (flags: UInt8, stream: UInt32, length: Int, remaining: Int),
                                    from input: inout UnsafeRawBufferPointer, first: Bool) -> FrameView {
        let n = min(data.remaining, input.count)
        let piece = UnsafeRawBufferPointer(rebasing: input[..<n])
        input = UnsafeRawBufferPointer(rebasing: input[n...])
        let remaining = data.remaining - n
        streaming = remaining > 0 ? (data.flags, data.stream, data.length, remaining) : nil
        return FrameView(type: .data, flags: data.flags, stream: data.stream, payload: piece,
                         length: data.length, isFirstPiece: first, isLastPiece: remaining == 0)
    }

    /// Continues the frame cut by an earlier input's end, taking only the bytes it still needs.
    private mutating func nextFromPartial(_ input: inout UnsafeRawBufferPointer, streamingData: Bool) throws(FrameError) -> FrameView? {
        if partial.count < TunnelProtocol.headerSize {
            take(TunnelProtocol.headerSize - partial.count, from: &input)
            guard partial.count == TunnelProtocol.headerSize else { return nil }
        }
        let (type, flags, length, stream) = try header(partial.bytes)
        if streamingData && type == .data {
            try checkDataHeader(stream: stream)
            clearPartial()
            return nextPiece(of: (flags, stream, length, length), from: &input, first: true)
        }
        take(TunnelProtocol.headerSize + length - partial.count, from: &input)
        guard partial.count == TunnelProtocol.headerSize + length else { return nil }
        partialDelivered = true
        let payload = UnsafeRawBufferPointer(rebasing: partial.bytes[TunnelProtocol.headerSize...])
        return try validated(FrameView(type: type, flags: flags, stream: stream, payload: payload))
    }

    /// Empties the reassembly buffer, without touching one a copy of this decoder still uses.
    private mutating func clearPartial() {
        if isKnownUniquelyReferenced(&partial) { partial.removeAll() } else { partial = ReassemblyBuffer() }
    }

    private mutating func take(_ wanted: Int, from input: inout UnsafeRawBufferPointer) {
        let n = min(wanted, input.count)
        guard n > 0 else { return }
        // Copy on write: a copied decoder (a value) must not share a frame in progress.
        if !isKnownUniquelyReferenced(&partial) { partial = partial.copy() }
        partial.append(UnsafeRawBufferPointer(rebasing: input[0 ..< n]))
        input = UnsafeRawBufferPointer(rebasing: input[n...])
    }

    /// Reads and checks a complete header: a known type and a length this side accepts.
    private mutating func header(_ bytes: UnsafeRawBufferPointer) throws(FrameError) -> (FrameType, UInt8, Int, UInt32) {
        guard let type = FrameType(rawValue: bytes[3]) else { throw fail(.unknownType(bytes[3])) }
        let length = Int(bytes.bigEndianUInt24(at: 0))
        guard length <= maxPayload else { throw fail(.frameTooLarge(length)) }
        return (type, bytes[4], length, bytes.bigEndianUInt32(at: 5))
    }

    /// A streamed DATA frame is checked on its header alone (DATA has no payload rules).
    private mutating func checkDataHeader(stream: UInt32) throws(FrameError) {
        do {
            try Frame.validate(type: .data, stream: stream, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        } catch {
            throw fail(error)
        }
    }

    private mutating func validated(_ view: FrameView) throws(FrameError) -> FrameView {
        do {
            try Frame.validate(type: view.type, stream: view.stream, payload: view.payload)
        } catch {
            throw fail(error)
        }
        return view
    }

    private mutating func fail(_ error: FrameError) -> FrameError {
        failure = error
        clearPartial()
        partialDelivered = false
        streaming = nil
        fed = []
        fedIndex = 0
        return error
    }

    // MARK: Owning entry point

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, !bytes.isEmpty else { return }
        if fedIndex > 0 && fedIndex * 2 >= fed.count {
            fed.removeSubrange(0 ..< fedIndex)
            fedIndex = 0
        }
        fed.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The next complete frame of what was fed, or nil when more bytes are needed.
    public mutating func next() throws(FrameError) -> Frame? {
        if let failure { throw failure }
        let all = fed
        fed = []
        defer {
            if failure == nil { fed = all }
            if fedIndex == fed.count { fed.removeAll(keepingCapacity: true); fedIndex = 0 }
        }
        let start = fedIndex
        let result = all.withUnsafeBytes { raw in
            Result { () throws(FrameError) -> (Frame?, Int) in
                var input = UnsafeRawBufferPointer(rebasing: raw[start...])
                let frame = try nextView(from: &input)?.frame
                return (frame, raw.count - input.count)
            }
        }
        let (frame, used) = try result.get()
        fedIndex = used
        return frame
    }
}

/// Growable bytes at a stable address (views into it stay valid until the next append or
/// removeAll), reused for every frame that arrives in pieces. Sendable because the decoder copies
/// it before writing whenever it is shared (copy on write), like an array's storage.
private final class ReassemblyBuffer: @unchecked Sendable {
    private var storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private(set) var count = 0

    deinit { storage.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0 ..< count]) }

    func append(_ more: UnsafeRawBufferPointer) {
        if count + more.count > storage.count {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(storage.count * 2, count + more.count), alignment: 16)
            grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[0 ..< count]))
            storage.deallocate()
            storage = grown
        }
        UnsafeMutableRawBufferPointer(rebasing: storage[count ..< count + more.count]).copyMemory(from: more)
        count += more.count
    }

    func removeAll() { count = 0 }

    func copy() -> ReassemblyBuffer {
        let other = ReassemblyBuffer()
        other.append(bytes)
        return other
    }
}
