import Wire

/// How long a public HTTP connection may wait at each stage, and the deadline each stage runs
/// (one at a time: `HTTPProxyConnection` keeps a single timer). The defaults are nginx's where it
/// has one (client_header_timeout, keepalive_timeout, client_body_timeout, proxy_read_timeout).
public struct HTTPProxyTimeouts: Sendable, Equatable {
    /// A request head must be complete this long after its first byte (then 408).
    public var head: Double = 10
    /// A connection with no request in progress is closed after this long.
    public var idle: Double = 75
    /// Body bytes must keep arriving: at most this long between two reads (then 408, or the
    /// connection is cut if the response had begun). Time spent waiting for the machine to take
    /// the bytes already sent does not count.
    public var requestBody: Double = 30
    /// A forwarded request must see the first byte of its response within this long (then 504).
    public var responseStart: Double = 60
    /// An upgraded connection (WebSocket, CONNECT) with no byte either way for this long is closed.
    public var upgradedIdle: Double = 600

    public init(head: Double = 10, idle: Double = 75, requestBody: Double = 30, responseStart: Double = 60,
                upgradedIdle: Double = 600) {
        self.head = head
        self.idle = idle
        self.requestBody = requestBody
        self.responseStart = responseStart
        self.upgradedIdle = upgradedIdle
    }

    /// The stage a connection is in, as far as its timer is concerned.
    enum Stage: Equatable {
        case idle, head, requestBody, responseStart, upgraded
    }

    func seconds(for stage: Stage) -> Double {
        switch stage {
        case .idle: return idle
        case .head: return head
        case .requestBody: return requestBody
        case .responseStart: return responseStart
        case .upgraded: return upgradedIdle
        }
    }

    /// `--http-timeouts head=10s,idle=75s,body=30s,response=60s,upgraded=10m`: the stages named
    /// are set, the others keep their defaults.
    public static func parse(_ text: String) -> Result<HTTPProxyTimeouts, ParseError> {
        var timeouts = HTTPProxyTimeouts()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let seconds = DurationSyntax.parse(String(parts[1])) else {
                return .failure(ParseError(item: String(item)))
            }
            switch parts[0].trimmingASCIIWhitespace() {
            case "head": timeouts.head = Double(seconds)
            case "idle": timeouts.idle = Double(seconds)
            case "body": timeouts.requestBody = Double(seconds)
            case "response": timeouts.responseStart = Double(seconds)
            case "upgraded": timeouts.upgradedIdle = Double(seconds)
            default: return .failure(ParseError(item: String(item)))
            }
        }
        return .success(timeouts)
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let item: String
        public var description: String {
            "'\(item)' is not STAGE=DURATION with STAGE one of head, idle, body, response, upgraded (e.g. body=30s,upgraded=10m)"
        }
    }
}
