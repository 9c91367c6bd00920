import XCTest
@testable import Wire

final class FrameDecoderTests: XCTestCase {
    /// One valid frame of every type (and the flag variants).
    static let samples: [Frame] = [
        .hello(body: Array(#"{"role":"share"}"#.utf8)),
        .hello(version: 7, body: []),
        .control(Array("{}".utf8)),
        .control([]),
        .open(stream: 1, metadata: Array("tcp:127.0.0.1:22".utf8)),
        .data(stream: 3, [1, 2, 3, 4, 5]),
        .data(stream: 3, [], fin: true),
        .data(stream: 0xFFFF_FFFF, Array(repeating: 0xAB, count: 70_000), fin: true),
        .window(stream: 2, increment: 0x0102_0304),
        .reset(stream: 5, code: .refused, reason: "connection refused"),
        .reset(stream: 5, code: ResetCode(rawValue: 999), reason: ""),
        .ping(0x0102_0304_0506_0708),
        .ping(42, ack: true),
        .datagram(channel: 0, [0x45, 0, 0, 20]),
        .datagram(channel: 9, []),
        .goaway(code: 2, reason: "relay shutting down ✓"),
    ]

    func testRoundTripEveryFrameType() throws {
        XCTAssertEqual(Set(Self.samples.map(\.type.rawValue)), Set(FrameType.allCases.map(\.rawValue)))
        for frame in Self.samples {
            var dec = FrameDecoder(maxPayload: 1 << 20)
            dec.feed(FrameEncoder.encode(frame))
            XCTAssertEqual(try dec.next(), frame, "\(frame)")
            XCTAssertNil(try dec.next())
            XCTAssertEqual(dec.bufferedByteCount, 0)
        }
    }

    func testByteByByteEqualsAllAtOnce() throws {
        var all: [UInt8] = []
        for f in Self.samples { FrameEncoder.append(f, to: &all) }

        var whole = FrameDecoder()
        whole.feed(all)
        var a: [Frame] = []
        while let f = try whole.next() { a.append(f) }

        var single = FrameDecoder()
        var b: [Frame] = []
        for byte in all {
            single.feed([byte])
            while let f = try single.next() { b.append(f) }
        }
        XCTAssertEqual(a, Self.samples)
        XCTAssertEqual(b, Self.samples)

        // Odd chunk sizes through the raw-pointer entry point.
        var chunked = FrameDecoder()
        var c: [Frame] = []
        var i = 0, step = 1
        while i < all.count {
            let end = min(all.count, i + step)
            all[i ..< end].withUnsafeBytes { chunked.feed($0) }
            while let f = try chunked.next() { c.append(f) }
            i = end
            step = step * 3 % 1031 + 1
        }
        XCTAssertEqual(c, Self.samples)
    }

    /// Streamed DATA: each read's share of the payload comes out at once as a view of that read
    /// (nothing is reassembled), first and last pieces marked; other frames still come out whole.
    func testStreamedDataComesOutInPiecesWithoutReassembly() throws {
        var wire = FrameEncoder.encode(.data(stream: 3, Array(0..<100), fin: true))
        FrameEncoder.append(.window(stream: 3, increment: 9), to: &wire)
        var dec = FrameDecoder()
        var pieces: [(bytes: [UInt8], first: Bool, last: Bool, length: Int)] = []
        var others: [Frame] = []
        for range in [0..<5, 5..<40, 40..<109, 109..<wire.count] {
            try wire[range].withUnsafeBytes { raw in
                var input = raw
                while let view = try dec.nextView(from: &input, streamingData: true) {
                    if view.type == .data {
                        pieces.append((Array(view.payload), view.isFirstPiece, view.isLastPiece, view.length))
                        XCTAssertTrue(view.isFin)
                    } else {
                        others.append(view.frame)
                    }
                }
            }
            XCTAssertEqual(dec.bufferedByteCount, range.upperBound == 5 ? 5 : 0, "only a cut header is kept")
        }
        XCTAssertEqual(pieces.map(\.bytes), [Array(0..<31), Array(31..<100)])
        XCTAssertEqual(pieces.map(\.first), [true, false])
        XCTAssertEqual(pieces.map(\.last), [false, true])
        XCTAssertEqual(pieces.map(\.length), [100, 100])
        XCTAssertEqual(others, [.window(stream: 3, increment: 9)])
    }

    /// The decoder is a value: a copy taken mid-frame finishes that frame on its own.
    func testCopiedDecoderDoesNotShareAFrameInProgress() throws {
        let wire = FrameEncoder.encode(.reset(stream: 7, code: .unreachable, reason: "no route"))
        var a = FrameDecoder()
        a.feed(Array(wire[0..<6]))
        XCTAssertNil(try a.next())
        var b = a
        b.feed(Array(wire[6...]))
        XCTAssertEqual(try b.next(), .reset(stream: 7, code: .unreachable, reason: "no route"))
        XCTAssertEqual(a.bufferedByteCount, 6, "the original still holds only its own 6 bytes")
        a.feed(Array(wire[6...]))
        XCTAssertEqual(try a.next(), .reset(stream: 7, code: .unreachable, reason: "no route"))
    }

    func testTruncatedInputReturnsNil() throws {
        let bytes = FrameEncoder.encode(.reset(stream: 7, code: .unreachable, reason: "no route"))
        for cut in 0 ..< bytes.count {
            var dec = FrameDecoder()
            dec.feed(Array(bytes[0 ..< cut]))
            XCTAssertNil(try dec.next(), "cut at \(cut)")
            XCTAssertEqual(dec.bufferedByteCount, cut)
            dec.feed(Array(bytes[cut...]))
            XCTAssertEqual(try dec.next(), .reset(stream: 7, code: .unreachable, reason: "no route"))
        }
    }

    func testOversizeLengthRejectedBeforePayloadArrives() {
        var dec = FrameDecoder(maxPayload: 1024)
        var out: [UInt8] = []
        FrameEncoder.appendHeader(type: .data, flags: 0, stream: 1, length: 1025, to: &out)
        dec.feed(out) // header only: no payload was ever fed or buffered
        XCTAssertThrowsError(try dec.next()) { XCTAssertEqual($0 as? FrameError, .frameTooLarge(1025)) }
        XCTAssertEqual(dec.bufferedByteCount, 0)
        // The error is sticky: framing is lost.
        dec.feed(FrameEncoder.encode(.ping(1)))
        XCTAssertThrowsError(try dec.next()) { XCTAssertEqual($0 as? FrameError, .frameTooLarge(1025)) }

        // Exactly maxPayload is fine.
        var ok = FrameDecoder(maxPayload: 1024)
        ok.feed(FrameEncoder.encode(.data(stream: 1, Array(repeating: 1, count: 1024))))
        XCTAssertEqual(try ok.next()?.payload.count, 1024)
    }

    func testUnknownTypeRejected() {
        var dec = FrameDecoder()
        dec.feed([0, 0, 0, 0x09, 0, 0, 0, 0, 0])
        XCTAssertThrowsError(try dec.next()) { XCTAssertEqual($0 as? FrameError, .unknownType(9)) }
        var dec2 = FrameDecoder()
        dec2.feed([0, 0, 0, 0xFF, 0, 0, 0, 0, 1])
        XCTAssertThrowsError(try dec2.next()) { XCTAssertEqual($0 as? FrameError, .unknownType(0xFF)) }
    }

    func testMalformedFramesRejected() {
        let bad: [Frame] = [
            Frame(type: .hello, payload: Array("VSHX".utf8) + [0, 1]),     // wrong magic
            Frame(type: .hello, payload: Array("VSHR".utf8)),              // no version
            Frame(type: .hello, stream: 1, payload: Array("VSHR".utf8) + [0, 1]),
            Frame(type: .control, stream: 2),
            Frame(type: .open, stream: 0),
            Frame(type: .data, stream: 0),
            Frame(type: .window, stream: 1, payload: [0, 0, 0, 0]),        // zero increment
            Frame(type: .window, stream: 1, payload: [0, 0, 1]),
            Frame(type: .reset, stream: 1, payload: [0, 0]),
            Frame(type: .reset, stream: 0, payload: [0, 0, 0, 0]),
            Frame(type: .ping, payload: [1, 2, 3]),
            Frame(type: .ping, stream: 4, payload: Array(repeating: 0, count: 8)),
            Frame(type: .goaway, payload: [1]),
        ]
        for frame in bad {
            var dec = FrameDecoder()
            dec.feed(FrameEncoder.encode(frame))
            XCTAssertThrowsError(try dec.next(), "\(frame)") { error in
                guard case .malformed(let why)? = error as? FrameError else { return XCTFail("\(error)") }
                XCTAssertFalse(why.isEmpty)
            }
        }
    }

    func testUnknownFlagBitsAreIgnored() throws {
        var dec = FrameDecoder()
        dec.feed(FrameEncoder.encode(Frame(type: .data, flags: 0xFE, stream: 1, payload: [1])))
        let f = try XCTUnwrap(try dec.next())
        XCTAssertFalse(f.isFin)
    }

    func testLargeStreamOfFramesCompacts() throws {
        var dec = FrameDecoder()
        let frame = Frame.data(stream: 1, Array(repeating: 7, count: 1000))
        let one = FrameEncoder.encode(frame)
        var count = 0
        for _ in 0 ..< 2000 {
            dec.feed(one + one.prefix(500))
            while let f = try dec.next() { XCTAssertEqual(f.payload.count, 1000); count += 1 }
            dec.feed(Array(one.suffix(from: 500)))
            while try dec.next() != nil { count += 1 }
        }
        XCTAssertEqual(count, 4000)
        XCTAssertEqual(dec.bufferedByteCount, 0)
    }

    /// The fuzz seed corpus must stay valid as the format evolves.
    func testFuzzSeedCorpusDecodes() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fuzz/corpus/tunnel-frames").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".bin") }
        XCTAssertGreaterThanOrEqual(files.count, 8)
        for name in files {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            var dec = FrameDecoder()
            dec.feed(bytes)
            var frames: [Frame] = []
            while let f = try dec.next() { frames.append(f) }
            XCTAssertFalse(frames.isEmpty, name)
            XCTAssertEqual(dec.bufferedByteCount, 0, name)
            var again: [UInt8] = []
            for f in frames { FrameEncoder.append(f, to: &again) }
            XCTAssertEqual(again, bytes, name)
        }
    }

    func testErrorDescriptionsSayWhatHappened() {
        XCTAssertTrue(FrameError.frameTooLarge(5_000_000).description.contains("5000000"))
        XCTAssertTrue(FrameError.unknownType(0x2a).description.contains("0x2a"))
        XCTAssertTrue(MuxError.windowExceeded(stream: 9).description.contains("stream 9"))
        XCTAssertEqual(ResetCode.shareEnded.description, "shareEnded")
        XCTAssertEqual(ResetCode(rawValue: 1), .refused)
    }
}
