import Transport
import Wire

/// Joins a stream on one tunnel to a stream on another (a connect client's SOCKS CONNECT to the
/// share agent's dial), with each side's credit flow control intact: bytes from one side are
/// acknowledged (`consumed`) only once the other side's tunnel took them, so the relay holds at
/// most one window per direction. Both tunnels live on the same loop (the share's).
final class StreamSplice {
    /// One direction's end: the tunnel and stream bytes arrive on, and what waits to go across.
    private final class End: TunnelStreamHandler {
        let tunnel: TunnelConnection
        let stream: UInt32
        /// Strong: the tunnels hold the ends, the ends hold the splice; `end()` breaks the cycle.
        var splice: StreamSplice?
        var pending = ByteQueue()       // received here, not yet taken by the other side
        var finished = false            // FIN received here
        var finishForwarded = false

        init(tunnel: TunnelConnection, stream: UInt32) {
            self.tunnel = tunnel
            self.stream = stream
        }

        func tunnelStream(_ stream: UInt32, didReceive bytes: [UInt8]) {
            guard let splice else { return }
            // Nothing waiting: pass the frame straight across and keep only what did not fit.
            if pending.isEmpty {
                let target = splice.other(of: self)
                let taken = bytes.withUnsafeBytes { target.tunnel.send(stream: target.stream, $0) }
                if taken > 0 { tunnel.consumed(stream: self.stream, count: taken) }
                if taken == bytes.count { return }
                bytes.withUnsafeBytes { pending.append(UnsafeRawBufferPointer(rebasing: $0[taken...])) }
                return
            }
            bytes.withUnsafeBytes { pending.append($0) }
            splice.pump(from: self)
        }
        func tunnelStreamDidFinish(_ stream: UInt32) {
            finished = true
            splice?.pump(from: self)
        }
        func tunnelStream(_ stream: UInt32, didReset code: ResetCode, reason: String) {
            splice?.reset(from: self, code: code, reason: reason)
        }
        func tunnelStreamDidConnect(_ stream: UInt32) {
            guard let splice else { return }
            let target = splice.other(of: self)
            target.tunnel.sendConnected(stream: target.stream)
        }
        func tunnelStreamIsWritable(_ stream: UInt32) {
            guard let splice else { return }
            splice.pump(from: splice.other(of: self))
        }
    }

    private let a: End
    private let b: End
    private var done = false

    /// `a` is the stream the connect client opened; `b` the one the relay opened to the agent.
    init(client: (TunnelConnection, UInt32), agent: (TunnelConnection, UInt32)) {
        a = End(tunnel: client.0, stream: client.1)
        b = End(tunnel: agent.0, stream: agent.1)
        a.splice = self
        b.splice = self
        a.tunnel.attach(stream: a.stream, handler: a)
        b.tunnel.attach(stream: b.stream, handler: b)
    }

    private func other(of end: End) -> End { end === a ? b : a }

    /// Moves what `from` received to the other side, as far as that side's credit allows.
    private func pump(from source: End) {
        guard !done else { return }
        let target = other(of: source)
        var moved = 0
        while !source.pending.isEmpty {
            let taken = source.pending.consume { bytes in target.tunnel.send(stream: target.stream, bytes) }
            if taken == 0 { break }
            moved += taken
        }
        if moved > 0 { source.tunnel.consumed(stream: source.stream, count: moved) }
        if source.pending.isEmpty && source.finished && !source.finishForwarded {
            source.finishForwarded = true
            target.tunnel.finish(stream: target.stream)
        }
        if a.finishForwarded && b.finishForwarded { end() }
    }

    private func reset(from source: End, code: ResetCode, reason: String) {
        guard !done else { return }
        let target = other(of: source)
        target.tunnel.reset(stream: target.stream, code: code, reason: reason)
        end()
    }

    private func end() {
        done = true
        a.tunnel.detach(stream: a.stream)
        b.tunnel.detach(stream: b.stream)
        a.splice = nil
        b.splice = nil
    }
}
