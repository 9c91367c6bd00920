import Transport
import Wire

/// Everything `vshare share` needs, parsed from the command line by the CLI.
public struct ShareConfig: Sendable {
    public var relay: String          // HOST:PORT
    public var relayCA: String?       // nil: the system trust store
    public var token: String?
    public var target: String         // the shared machine's address
    public var httpPort: UInt16
    public var httpsPort: UInt16?
    public var disableHTTP: Bool
    public var mux = MuxConfig()
    /// Reconnect back-off after a lost connection to the relay.
    public var reconnect = ReconnectBackoff(first: 1, max: 30)
    /// The name shown in output (`==> default: ...`), as Vagrant shows the machine's name.
    public var machineName = "default"
    /// Largest IP packet the packet stacks send to connect peers (the peers' TUN MTU).
    public var packetMTU = 65535
    /// Busy-poll window after active turns, in µs (`EventLoop.spinMicroseconds`; 0 = off).
    public var busyPollMicroseconds: Double = EventLoop.defaultSpinMicroseconds
    /// `--ssh`: share SSH access with a per-share key (nil: SSH is never shared).
    public var ssh: SSHShareOptions?
    /// Which ports `vshare connect` peers reach (`--all-ports`, `--ports`, `--no-connect`); see `ConnectScope`.
    public var connectPorts: ConnectPorts = .automatic
    /// `--basic-auth USER:PASS`: the public URL asks for this user and password (hashed before it is sent).
    public var basicAuth: BasicAuthorization?
    /// `--allow-ip`: only these client networks reach the public URLs (empty: every address).
    public var allowIP: [IPNetwork] = []
    /// `--metrics ADDR:PORT`: serve Prometheus text at /metrics there (nil = off).
    public var metrics: SocketAddress?

    public init(relay: String, relayCA: String?, token: String?, target: String, httpPort: UInt16,
                httpsPort: UInt16?, disableHTTP: Bool) {
        self.relay = relay
        self.relayCA = relayCA
        self.token = token
        self.target = target
        self.httpPort = httpPort
        self.httpsPort = httpsPort
        self.disableHTTP = disableHTTP
    }
}
