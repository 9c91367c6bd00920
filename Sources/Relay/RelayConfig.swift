import Transport
import Wire

/// Everything `vshare relay` needs, parsed from the command line by the CLI.
public struct RelayConfig: Sendable {
    public var control: SocketAddress
    public var http: SocketAddress
    public var https: SocketAddress
    /// Public URLs are `http://NAME.DOMAIN:PORT`.
    public var domain: String
    public var dataDir: String
    public var hostnames: [String]
    /// A real certificate instead of the relay's own CA (`--cert`, `--key`).
    public var certificatePath: String?
    public var keyPath: String?
    public var shareTTL: Int
    /// How long a share waits for its agent to reconnect before it ends.
    public var reconnectGrace: Double = 120
    /// `--log-retention`: access-log and audit rows older than this are deleted (seconds; default 30 days).
    public var logRetention = 30 * 86_400
    /// `--store off`: no database — only the owner token, shares forgotten on restart, no log rows
    /// (what the store's cost is measured against; scripts/bench-store).
    public var storeEnabled = true
    /// `--drain`: on SIGTERM, how long requests in flight get to finish before the relay exits.
    public var drain: Double = 10
    /// The agents' tunnels. Their streams carry public clients, so each gets a small receive
    /// window (`--stream-window`): what a client that asks for much and reads nothing makes the
    /// relay hold is this window, not the 4 MiB an agent's own streams get.
    public var mux = MuxConfig(initialWindow: 256 << 10)
    public var loops = EventLoopGroup.coreCount
    /// Busy-poll window after active turns, in µs (`EventLoop.spinMicroseconds`; 0 = off).
    public var busyPollMicroseconds: Double = EventLoop.defaultSpinMicroseconds
    public var limits = GuessLimiter.Limits()
    /// `--http-timeouts`: the public HTTP port's head, idle, request-body, response-start and
    /// upgraded-idle limits.
    public var httpTimeouts = HTTPProxyTimeouts()
    /// The web interface (`--admin`, which defaults to 127.0.0.1:7444; nil = off). Plain HTTP on
    /// loopback, HTTPS elsewhere. Off unless set, so a relay built in code opens no extra port.
    public var admin: SocketAddress?

    // Resources and liveness (issue 11): what one client, or all of them, may hold.
    /// Bytes held for slow readers across the relay (`--memory-budget`); over it, no new streams.
    public var memoryBudget = 256 << 20
    /// Open connections from one client address to each public port and to the control port
    /// (`--max-conns-per-ip`); more are closed at accept.
    public var maxConnectionsPerAddress = 256
    /// Seconds a control connection has, after its HELLO, to send its request (`--join-timeout`).
    public var joinTimeout = 10.0

    public init(control: SocketAddress, http: SocketAddress, https: SocketAddress, domain: String,
                dataDir: String, hostnames: [String], certificatePath: String?, keyPath: String?, shareTTL: Int) {
        self.control = control
        self.http = http
        self.https = https
        self.domain = domain
        self.dataDir = dataDir
        self.hostnames = hostnames
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.shareTTL = shareTTL
    }

    /// The port shown in public URLs (left out when it is 80).
    var publicHTTPSuffix: String { http.port == 80 ? "" : ":\(http.port)" }

    func publicURL(for name: String) -> String { "http://\(name).\(domain)\(publicHTTPSuffix)" }

    /// Where a share's TLS clients connect (SNI routing), as shown to its agent and in the web interface.
    func httpsAddress(for name: String) -> String { "https://\(name).\(domain)\(https.port == 443 ? "" : ":\(https.port)")" }
}
