import XCTest
@testable import Wire

/// Two muxes wired back to back, as the dialer and listener ends of one connection.
struct MuxPair {
    var dialer: StreamMux
    var listener: StreamMux

    init(config: MuxConfig = .init()) throws {
        dialer = StreamMux(role: .dialer, config: config)
        listener = StreamMux(role: .listener, config: config)
        dialer.sendHello(body: Array(#"{"role":"connect"}"#.utf8))
        listener.sendHello(body: Array(#"{"role":"relay"}"#.utf8))
        let (d, l) = try pump()
        precondition(d == [.hello(version: TunnelProtocol.version, body: Array(#"{"role":"relay"}"#.utf8))])
        precondition(l == [.hello(version: TunnelProtocol.version, body: Array(#"{"role":"connect"}"#.utf8))])
    }

    /// Moves queued bytes both ways until both outbound buffers are empty.
    /// Returns the events each side saw (dialer's, listener's).
    mutating func pump() throws -> (dialer: [MuxEvent], listener: [MuxEvent]) {
        var d: [MuxEvent] = [], l: [MuxEvent] = []
        while dialer.outboundCount > 0 || listener.outboundCount > 0 {
            l += try listener.receive(dialer.takeOutbound())
            d += try dialer.receive(listener.takeOutbound())
        }
        return (d, l)
    }
}

func bytes(_ n: Int, seed: UInt8 = 0) -> [UInt8] {
    (0 ..< n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}

/// Concatenates all data events for `stream`.
func received(_ events: [MuxEvent], stream: UInt32) -> [UInt8] {
    var out: [UInt8] = []
    for case .data(let s, let b) in events where s == stream { out += b }
    return out
}

func decodeAll(_ raw: [UInt8]) throws -> [Frame] {
    var dec = FrameDecoder(maxPayload: 16 << 20)
    dec.feed(raw)
    var out: [Frame] = []
    while let f = try dec.next() { out.append(f) }
    return out
}

func helloBytes() -> [UInt8] { FrameEncoder.encode(.hello(body: [])) }
