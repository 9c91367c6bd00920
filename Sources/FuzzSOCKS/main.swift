// libFuzzer target for the SOCKS5 codec the connect client runs on 127.0.0.1. The first
// input byte seeds how the rest is split into chunks; the rest is fed to the server parser
// (as a client connection) and to the UDP header parser (as one datagram).
// Parsers may throw on bad input but must never crash, and must uphold their invariants:
// the split never changes the outcome, pipelined bytes are exactly the input's tail, and
// what parses re-encodes to something that parses the same.
//
// Build and run: `FUZZ_SECONDS=60 scripts/fuzz FuzzSOCKS` (see the BUILD_FLAGS note there).
// Corpus files (Tests/Fuzz/corpus/socks/): first byte = chunking seed (0 = one chunk), the
// rest = client bytes.
import TestSupport
import Wire

private struct Outcome: Equatable {
    var events: [SOCKS5ServerEvent] = []
    var error: SOCKS5ParseError?
    var rest: [UInt8] = []
}

private func parse(_ input: [UInt8], in ranges: [Range<Int>]) -> Outcome {
    var parser = SOCKS5ServerParser()
    var outcome = Outcome()
    loop: for range in ranges {
        parser.feed(input[range])
        while true {
            do {
                guard let event = try parser.next() else { break }
                outcome.events.append(event)
            } catch {
                outcome.error = error
                _ = error.response; _ = error.description
                break loop
            }
        }
    }
    outcome.rest = parser.takeRemainingBytes()
    return outcome
}

private func fuzzServer(_ input: [UInt8], seed: UInt8) {
    let whole = parse(input, in: [0..<input.count])
    let split = parse(input, in: ChunkPlan.ranges(count: input.count, seed: seed))
    precondition(whole == split, "chunking changed the outcome: \(whole) vs \(split)")
    precondition(whole.events.count <= 2)
    precondition(whole.rest.count <= input.count && Array(input.suffix(whole.rest.count)) == whole.rest,
                 "pipelined bytes are not the input's tail")
    if whole.events.count == 2 {
        guard case .greeting(let methods) = whole.events[0], case .request(let request) = whole.events[1] else {
            preconditionFailure("events out of order: \(whole.events)")
        }
        // Re-encoding the handshake parses back to the same events.
        let handshake = [5, UInt8(methods.count)] + methods + request.encoded()
        let again = parse(handshake, in: [0..<handshake.count])
        precondition(again.events == whole.events && again.error == nil && again.rest.isEmpty,
                     "request does not round-trip: \(request)")
        let reply = SOCKS5Reply(.succeeded, bound: request.destination, port: request.port).encoded()
        precondition(reply.count == 3 + request.destination.encodedLength)
    } else {
        precondition(whole.rest.isEmpty, "pipelined bytes before the request completed")
    }
}

private func fuzzUDP(_ input: [UInt8]) {
    guard let (header, offset) = try? SOCKS5UDPHeader.parse(input) else { return }
    precondition(offset == header.encodedLength && offset <= input.count, "data offset \(offset) for \(header)")
    var again: [UInt8] = []
    header.encode(into: &again)
    again += input[offset...]
    guard let (reparsed, offset2) = try? SOCKS5UDPHeader.parse(again) else {
        preconditionFailure("UDP header does not round-trip: \(header)")
    }
    precondition(reparsed == header && Array(again[offset2...]) == Array(input[offset...]))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let seed = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    fuzzServer(input, seed: seed)
    fuzzUDP(input)
    return 0
}
