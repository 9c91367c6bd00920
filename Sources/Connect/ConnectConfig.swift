import Transport
import Wire

/// Everything `vshare connect` needs, parsed from the command line by the CLI.
public struct ConnectConfig: Sendable {
    public var relay: String                 // HOST:PORT
    public var relayCA: String?              // nil: the system trust store
    public var name: String                  // the share to join
    /// The connect code the sharer gave, canonical (`ConnectCode.normalize`); nil: none was given
    /// (`--ssh`, or standard input was empty).
    public var code: String?
    /// The machine IP asked for; the next free one in its /24 is taken when it is in use.
    public var machineAddress = IPv4Address(172, 16, 0, 2)
    public var socks: SocketAddress
    public var useTun = true
    public var pcapPath: String?
    public var mtu = 65535
    /// Busy-poll window after active turns, in µs (`EventLoop.spinMicroseconds`; 0 = off).
    public var busyPollMicroseconds: Double = EventLoop.defaultSpinMicroseconds
    public var mux = MuxConfig()
    /// Reconnect back-off after a lost connection to the relay.
    public var reconnect = ReconnectBackoff(first: 1, max: 30)

    public init(relay: String, relayCA: String?, name: String, socks: SocketAddress) {
        self.relay = relay
        self.relayCA = relayCA
        self.name = name
        self.socks = socks
    }
}
