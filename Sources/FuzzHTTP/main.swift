// libFuzzer target for the relay's HTTP and TLS-SNI parsers. The first input byte seeds
// how the rest is split into chunks (and which request methods the response parser
// expects); the rest is fed to the request parser, the response parser and the SNI parser,
// and, as text, to the parsers of the share's access rules (an `Authorization: Basic` value,
// an `--allow-ip` network).
// Parsers may throw on bad input but must never crash, and must uphold their invariants; a head the
// relay accepts is also forwarded (`serializeForwarded`) and must keep its framing.
//
// Build note (Swift 6.3.1): `swift build --sanitize=fuzzer --sanitize=address` passes two
// separate -sanitize flags and the frontend keeps only the last, so nothing gets coverage
// instrumentation (libFuzzer then reports "no interesting inputs"). Add
// `-Xswiftc -sanitize=fuzzer,address` to get a coverage-guided build:
//   swift build --product FuzzHTTP --sanitize=fuzzer --sanitize=address -Xswiftc -use-ld=lld \
//     -Xswiftc -sanitize=fuzzer,address --scratch-path .build-fuzz-h
//   ASAN_OPTIONS=detect_leaks=0 .build-fuzz-h/debug/FuzzHTTP -max_total_time=60 <workdir> Tests/Fuzz/corpus/http
// Corpus files: first byte = chunking seed (0 = one chunk), the rest = connection bytes.
import TestSupport
import Wire

private func fuzzRequests(_ input: [UInt8], seed: UInt8) {
    var parser = HTTPRequestParser(maxHeadBytes: 4096, maxHeaders: 32)
    var bodyBytes = 0
    var upgraded = false
    loop: for range in ChunkPlan.ranges(count: input.count, seed: seed) {
        parser.feed(Array(input[range]))
        while true {
            let event: HTTPRequestEvent?
            do { event = try parser.next() } catch { break loop }
            guard let event else {
                // The machine's answer to an upgrade, as the seed has it: the held bytes become
                // raw (101) or the next request (anything else).
                guard parser.isAwaitingUpgrade else { break }
                if seed & 0x80 != 0 { parser.acceptUpgrade() } else { parser.declineUpgrade() }
                continue
            }
            switch event {
            case .head(let head):
                precondition(!upgraded, "head after upgrade")
                _ = head.keepAlive; _ = head.isUpgrade; _ = head.host
                // What the proxy forwards upstream must parse back to the same head.
                var again = HTTPRequestParser(maxHeadBytes: 1 << 20, maxHeaders: 1000)
                again.feed(head.serialized())
                let reparsed = try? again.next()
                precondition(reparsed == .head(head), "serialized() does not round-trip: \(head)")
                checkForwarded(head, framing: parser.framing)
            case .body(let b):
                precondition(!b.isEmpty, "empty body event")
                bodyBytes += b.count
            case .end: break
            case .upgraded: upgraded = true
            }
        }
        _ = parser.isIdle; _ = parser.hasPartialHead
    }
    precondition(bodyBytes <= input.count)
}

/// What the relay sends the machine: parses back with the same framing (whatever `Connection`
/// names, the machine must find the body where the relay did), one `X-Forwarded-For` — the peer —
/// and none of the client's other address claims.
private func checkForwarded(_ head: HTTPRequestHead, framing: HTTPBodyFraming) {
    var out: [UInt8] = []
    head.serializeForwarded(clientIP: "192.0.2.9", into: &out)
    var machine = HTTPRequestParser(maxHeadBytes: 1 << 20, maxHeaders: 1000)
    machine.feed(out)
    guard case .head(let seen)? = try? machine.next() else { preconditionFailure("forwarded head does not parse: \(head)") }
    precondition(machine.framing == framing, "forwarding changed the framing of \(head)")
    precondition(seen.method == head.method && seen.target == head.target && seen.host == head.host)
    precondition(seen.headers.values(named: "X-Forwarded-For") == ["192.0.2.9"], "client's X-Forwarded-For kept: \(seen)")
    precondition(!seen.headers.contains(name: "Forwarded") && !seen.headers.contains(name: "X-Real-IP"))
}

private func fuzzResponses(_ input: [UInt8], seed: UInt8) {
    let methods = ["GET", "HEAD", "POST", "CONNECT"]
    var parser = HTTPResponseParser(maxHeadBytes: 4096)
    // The relay's observing parser must see the same messages while handing out no bytes.
    var observer = HTTPResponseParser(maxHeadBytes: 4096, observing: true)
    var rng = SplitMix64(seed: UInt64(seed) &* 31)
    for _ in 0..<8 {
        let method = methods[Int(rng.next() % 4)]
        parser.expectResponse(toMethod: method)
        observer.expectResponse(toMethod: method)
    }
    var forwarded: [UInt8] = []
    var shapes: [String] = []
    var observed: [String] = []
    func shape(_ e: HTTPResponseEvent) -> String {
        switch e {
        case .head(let h, _): return "head \(h.status)"
        case .body: return "body"
        case .upgraded: return "upgraded"
        case .end: return "end"
        }
    }
    func take(_ e: HTTPResponseEvent) {
        shapes.append(shape(e))
        switch e {
        case .head(_, let raw): forwarded += raw
        case .body(let b): precondition(!b.isEmpty, "empty body event"); forwarded += b
        case .upgraded(let b): forwarded += b
        case .end: break
        }
    }
    func watch(_ e: HTTPResponseEvent) {
        switch e {
        case .head(_, let raw): precondition(raw.isEmpty, "observing parser handed out bytes")
        case .body(let b), .upgraded(let b): precondition(b.isEmpty, "observing parser handed out bytes")
        case .end: break
        }
        if case .body = e { return }   // observing mode counts most body bytes as they are fed, without events
        observed.append(shape(e))
    }
    var failed = false, observerFailed = false
    loop: for range in ChunkPlan.ranges(count: input.count, seed: seed) {
        parser.feed(Array(input[range]))
        observer.feed(Array(input[range]))
        while !observerFailed {
            do {
                guard let e = try observer.next() else { break }
                watch(e)
            } catch { observerFailed = true }
        }
        while true {
            do {
                guard let e = try parser.next() else { break }
                take(e)
            } catch { failed = true; break loop }
        }
    }
    if !failed {
        do {
            if let e = try parser.finishAtEOF() { take(e) }
            while let e = try parser.next() { take(e) }
        } catch { failed = true }
    }
    if !observerFailed {
        do {
            if let e = try observer.finishAtEOF() { watch(e) }
            while let e = try observer.next() { watch(e) }
        } catch { observerFailed = true }
    }
    // Everything handed out is an exact prefix of the input: the proxy forwards it verbatim.
    precondition(forwarded.count <= input.count && Array(input[0..<forwarded.count]) == forwarded,
                 "response parser altered or reordered bytes")
    if !failed && !observerFailed {
        var merged: [String] = []
        for s in shapes where s != "body" { merged.append(s) }
        precondition(merged == observed, "observing parser saw other messages: \(merged) vs \(observed)")
        precondition(observer.consumedBytes == forwarded.count, "observing parser miscounted bytes")
    }
}

private func fuzzSNI(_ input: [UInt8]) {
    let whole = ClientHelloSNI.parse(input)
    // A decision on a prefix must not change when more bytes arrive.
    let cut = input.count / 2
    let prefix = ClientHelloSNI.parse(Array(input[0..<cut]))
    if prefix != .needMoreData {
        precondition(prefix == whole, "SNI result changed with more data: \(prefix) vs \(whole)")
    }
}

private func fuzzAccessRules(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    // What parses must come back the same through its canonical form.
    if let credentials = BasicAuthorization(headerValue: text) {
        precondition(BasicAuthorization(headerValue: credentials.headerValue) == credentials, "Basic credentials do not round-trip")
    }
    if let network = try? IPNetwork(parsing: text) {
        precondition(network.contains(network.address), "a network does not contain its own address")
        precondition((try? IPNetwork(parsing: network.description)) == network, "\(network) does not round-trip")
    }
    if let address = IPAddress(text) {
        precondition(IPAddress(address.description) == address, "\(address) does not round-trip")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let seed = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    fuzzRequests(input, seed: seed)
    fuzzResponses(input, seed: seed)
    fuzzSNI(input)
    fuzzAccessRules(input)
    return 0
}
