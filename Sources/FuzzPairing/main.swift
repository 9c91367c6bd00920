// libFuzzer target for what a data connection carries before TLS: the relay's `DataPreamble`
// parser, the `PairingMessage` framing, and both ends' `PairingExchange` fed whatever messages the
// input frames (so SPAKE2's point and MAC checks see arbitrary bytes). Nothing may crash; what
// parses must re-encode to the same bytes; an exchange fed junk fails (never pairs), and an agent
// counts a guess only once it has shown its share.
//
// Build and run: `FUZZ_SECONDS=60 scripts/fuzz FuzzPairing` (see the BUILD_FLAGS note there).
// Corpus files (Tests/Fuzz/corpus/pairing/): raw bytes, read as a preamble and then as messages.
import EndToEnd
import Wire

private let credentials = try! PairingCredentials(code: "7-acid-acorn-acre", shareName: "fuzz-share-0001")
private let ticket = [UInt8](repeating: 1, count: DataPreamble.ticketLength)

private func fuzzPreamble(_ input: [UInt8]) {
    guard input.count >= DataPreamble.size else { return }
    let bytes = Array(input.prefix(DataPreamble.size))
    guard let preamble = try? DataPreamble.parse(bytes) else { return }
    precondition(preamble.encoded() == bytes, "a preamble re-encodes to its bytes")
}

/// The messages the input frames, as a reader with exact reads would see them.
private func messages(_ input: [UInt8]) -> [PairingMessage] {
    var out: [PairingMessage] = []
    var rest = input[...]
    while rest.count >= PairingMessage.headerSize {
        let header = Array(rest.prefix(PairingMessage.headerSize))
        guard let length = try? PairingMessage.bodyLength(header: header) else { break }
        rest = rest.dropFirst(PairingMessage.headerSize)
        guard rest.count >= length else { break }
        let body = Array(rest.prefix(length))
        rest = rest.dropFirst(length)
        guard let message = try? PairingMessage.decode(header: header, body: body) else {
            preconditionFailure("a header that passed bodyLength decodes")
        }
        if case .refused = message {} else {
            precondition(message.encoded() == header + body, "a message re-encodes to its bytes")
        }
        out.append(message)
    }
    return out
}

private func fuzzExchange(side: EndToEndSide, _ received: [PairingMessage]) {
    guard let exchange = try? PairingExchange(side: side, credentials: credentials, ticket: ticket) else { return }
    _ = exchange.start()
    for message in received {
        for action in exchange.receive(message) {
            if case .established = action { preconditionFailure("random bytes paired with the code") }
        }
        if exchange.isDone { break }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    fuzzPreamble(input)
    let received = messages(input)
    fuzzExchange(side: .peer, received)
    fuzzExchange(side: .agent, received)
    return 0
}
