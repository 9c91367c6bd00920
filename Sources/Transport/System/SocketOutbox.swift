/// Bytes on their way into one socket, in order: written straight through while nothing is waiting
/// (no copy), the rest kept until the socket is writable again.
public struct SocketOutbox {
    private var queue = ByteQueue()

    public init() {}

    public var isEmpty: Bool { queue.isEmpty }
    public var count: Int { queue.count }

    /// Sends `bytes` after anything already waiting. Returns how many bytes reached the socket in
    /// this call (earlier queued ones included); only the rest is copied, to wait for `flush`.
    public mutating func send(_ bytes: UnsafeRawBufferPointer, to socket: Socket) throws(SystemError) -> Int {
        guard queue.isEmpty else {
            queue.append(bytes)
            return try flush(to: socket)
        }
        guard case .bytes(let written) = try socket.write(bytes) else {
            queue.append(bytes)
            return 0
        }
        if written < bytes.count { queue.append(UnsafeRawBufferPointer(rebasing: bytes[written...])) }
        return written
    }

    /// Queues bytes without writing (the caller flushes).
    public mutating func append(_ bytes: [UInt8]) { queue.append(bytes) }

    /// Writes waiting bytes until the socket would block; returns how many it took.
    public mutating func flush(to socket: Socket) throws(SystemError) -> Int {
        var written = 0
        while !queue.isEmpty {
            var blocked = false
            var failure: SystemError?
            written += queue.consume { bytes in
                do throws(SystemError) {
                    switch try socket.write(bytes) {
                    case .bytes(let n): return n
                    case .wouldBlock, .eof: blocked = true; return 0
                    }
                } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            if blocked { break }
        }
        return written
    }
}
