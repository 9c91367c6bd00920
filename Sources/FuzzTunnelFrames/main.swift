// libFuzzer target for the tunnel protocol: FrameDecoder and StreamMux (`receive`, built on `next(from:)`).
// Build and run:
//   swift build --product FuzzTunnelFrames --sanitize=fuzzer --sanitize=address -Xswiftc -use-ld=lld --scratch-path .build-fuzz-h
//   ASAN_OPTIONS=detect_leaks=0 .build-fuzz-h/debug/FuzzTunnelFrames Tests/Fuzz/corpus/tunnel-frames -max_total_time=60
// Invalid input must only ever throw. Besides memory safety the target checks that decoding does
// not depend on how the bytes were split into reads, and that decoded frames re-encode to the
// exact input bytes; a violated check traps so libFuzzer reports it.
import TestSupport
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    // Split patterns: all at once, byte by byte, and a few irregular ones seeded by the input.
    let seed = size > 0 ? Int(input[0]) : 0
    let splits: [[Int]] = [[size], [1], [2, 7, 1, 9 + seed % 23], [seed % 64 + 1, 3], [4096]]

    // 1. Decoder: same frames and same error for every split; frames re-encode to the input prefix.
    var reference: DecodeResult?
    for pattern in splits {
        let result = decode(input, pattern: pattern)
        if let reference {
            precondition(result == reference, "decoder result depends on read boundaries")
        } else {
            reference = result
            var reencoded: [UInt8] = []
            for frame in result.frames { FrameEncoder.append(frame, to: &reencoded) }
            precondition(reencoded.count <= size && reencoded.elementsEqual(input.prefix(reencoded.count)),
                         "decoded frames do not re-encode to the input bytes")
        }
    }

    // 2. Mux, raw input (mostly exercises the HELLO-first rule) and with a valid HELLO prepended
    //    so the fuzzer reaches the stream state machine.
    var withHello: [UInt8] = []
    FrameEncoder.append(.hello(body: []), to: &withHello)
    withHello.append(contentsOf: input)
    withHello.withUnsafeBytes { helloed in
        for bytes in [input, helloed] {
            var referenceMux: MuxResult?
            for pattern in splits {
                let result = runMux(bytes, pattern: pattern)
                if let referenceMux {
                    precondition(result.error == referenceMux.error && result.outbound == referenceMux.outbound,
                                 "mux errors/outbound depend on read boundaries")
                    if result.error == nil {
                        // DATA split across reads comes out in pieces: compare the joined bytes.
                        precondition(joiningData(result.events) == joiningData(referenceMux.events),
                                     "mux events depend on read boundaries")
                    }
                } else {
                    referenceMux = result
                }
            }
            // An application that reacts to events (consumes, writes, resets, finishes).
            for pattern in splits.prefix(3) { runReactiveMux(bytes, pattern: pattern) }
        }
    }
    return 0
}

struct DecodeResult: Equatable {
    var frames: [Frame] = []
    var error: FrameError?
}

struct MuxResult {
    var events: [MuxEvent] = []
    var error: MuxError?
    var outbound: [UInt8] = []
}

func fuzzConfig() -> MuxConfig {
    MuxConfig(initialWindow: 1000, maxDataFrame: 100, maxFramePayload: 4096, maxStreams: 4, datagramQueueLimit: 2048)
}

/// Calls `body` with consecutive chunks of `bytes`, cycling through the chunk sizes in `pattern`.
func forEachChunk(_ bytes: UnsafeRawBufferPointer, pattern: [Int], _ body: (UnsafeRawBufferPointer) -> Bool) {
    var offset = 0, k = 0
    while offset < bytes.count {
        let n = min(max(1, pattern[k % pattern.count]), bytes.count - offset)
        if !body(UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + n])) { return }
        offset += n
        k += 1
    }
}

func decode(_ bytes: UnsafeRawBufferPointer, pattern: [Int]) -> DecodeResult {
    var decoder = FrameDecoder(maxPayload: 4096)
    var result = DecodeResult()
    forEachChunk(bytes, pattern: pattern) { chunk in
        decoder.feed(chunk)
        do throws(FrameError) {
            while let frame = try decoder.next() { result.frames.append(frame) }
            return true
        } catch {
            result.error = error
            return false
        }
    }
    return result
}

func runMux(_ bytes: UnsafeRawBufferPointer, pattern: [Int]) -> MuxResult {
    var mux = StreamMux(role: .listener, config: fuzzConfig())
    var result = MuxResult()
    forEachChunk(bytes, pattern: pattern) { chunk in
        do throws(MuxError) {
            result.events += try mux.receive(chunk)
            return true
        } catch {
            result.error = error
            return false
        }
    }
    result.outbound = mux.takeOutbound()
    precondition(mux.openStreamCount <= fuzzConfig().maxStreams)
    return result
}

func runReactiveMux(_ bytes: UnsafeRawBufferPointer, pattern: [Int]) {
    var mux = StreamMux(role: .dialer, config: fuzzConfig())
    let filler = [UInt8](repeating: 0x5A, count: 700)
    forEachChunk(bytes, pattern: pattern) { chunk in
        let events: [MuxEvent]
        do { events = try mux.receive(chunk) } catch { return false }
        for event in events {
            switch event {
            case .hello:
                _ = mux.open(metadata: [1])
                mux.ping(7)
            case .opened(let s, let meta):
                if meta.first == 0xFF { mux.reset(stream: s, code: .refused, reason: "no") }
                else { _ = mux.send(stream: s, filler) }
            case .data(let s, let b):
                mux.consumed(stream: s, count: b.count)
                if b.first == 0x00 { mux.finish(stream: s) }
                if b.first == 0x01 { mux.reset(stream: s, code: .cancelled, reason: "") }
            case .writable(let s):
                precondition(mux.sendCredit(stream: s) > 0, ".writable without credit")
                _ = mux.send(stream: s, filler)
            case .connected(let s):
                mux.sendConnected(stream: s)
            case .finished(let s):
                mux.finish(stream: s)
                precondition(!mux.isOpen(stream: s), "stream kept after both FINs")
            case .reset(let s, _, _):
                precondition(!mux.isOpen(stream: s), "stream kept after RESET")
            case .datagram(let c, let b):
                mux.sendDatagram(channel: c, b)
            case .control, .pong, .goaway:
                _ = mux.open(metadata: [])
            }
            precondition(mux.openStreamCount <= fuzzConfig().maxStreams)
        }
        if mux.outboundCount > 1 << 16 { _ = mux.takeOutbound() }
        return true
    }
}
