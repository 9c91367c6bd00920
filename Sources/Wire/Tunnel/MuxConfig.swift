/// Limits of one StreamMux; see docs/PROTOCOL.md for which of them both ends must share.
public struct MuxConfig: Sendable, Equatable {
    /// Receive window each side grants per stream at OPEN, and therefore also the initial send
    /// credit each side assumes. Both ends of a connection must use the same value.
    public var initialWindow: UInt32
    /// Largest DATA payload this side sends (bulk data is split into frames of at most this size).
    public var maxDataFrame: Int
    /// Largest payload of any frame this side accepts (decoder limit) and sends. Both ends must agree.
    public var maxFramePayload: Int
    /// Most streams open at once; local open() returns nil beyond it, peer OPENs are refused with
    /// RESET(refused). A backstop, not the working limit: a stream's state is a few dozen bytes, and
    /// what a busy share really runs out of is memory for slow readers (the relay's MemoryBudget)
    /// and descriptors (the agent's flow caps).
    public var maxStreams: Int
    /// sendDatagram() drops datagrams while the outbound buffer holds more than this many bytes.
    public var datagramQueueLimit: Int

    public init(initialWindow: UInt32 = 4 << 20,
                maxDataFrame: Int = 32 << 10,
                maxFramePayload: Int = 1 << 20,
                maxStreams: Int = 65_536,
                datagramQueueLimit: Int = 512 << 10) {
        self.initialWindow = initialWindow
        self.maxDataFrame = maxDataFrame
        self.maxFramePayload = maxFramePayload
        self.maxStreams = maxStreams
        self.datagramQueueLimit = datagramQueueLimit
    }
}
