import Wire

/// Reads one request from a connection's bytes with the relay's HTTP parser: the head, then a
/// body of at most `maxBody` bytes (forms and API calls are small). Pure: the connection shells
/// (plain and TLS) feed it what they read.
struct AdminRequestReader {
    enum Outcome: Equatable {
        case needMore
        case request(head: HTTPRequestHead, body: [UInt8])
        /// Answer with this status and close.
        case refuse(Int)
    }

    static let maxBody = 16 * 1024
    private var parser = HTTPRequestParser(maxHeadBytes: 16 * 1024, maxHeaders: 64)
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        parser.feed(bytes)
        do {
            while let event = try parser.next() {
                switch event {
                case .head(let parsed):
                    // Forms and API calls are small and sent with Content-Length: no upgrades,
                    // no chunked bodies (this reader would have to strip their framing).
                    if parsed.isUpgrade { return .refuse(400) }
                    if case .chunked = parser.framing { return .refuse(400) }
                    head = parsed
                case .body(let chunk):
                    body += chunk
                    if body.count > Self.maxBody { return .refuse(413) }
                case .end:
                    guard let head else { return .refuse(400) }
                    return .request(head: head, body: body)
                case .upgraded: return .refuse(400)
                }
            }
        } catch {
            return .refuse(error.suggestedStatus)
        }
        return .needMore
    }
}
