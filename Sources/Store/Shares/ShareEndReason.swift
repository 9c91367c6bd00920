/// Why a share ended, as the history shows it. The raw values are what the database holds.
public enum ShareEndReason: String, Sendable, CaseIterable {
    /// The agent stopped it (Ctrl-C) or disconnected for good.
    case agentStopped = "agent-stopped"
    /// Its time to live ran out.
    case expired = "expired"
    /// Someone pressed Expire now in the web interface.
    case expiredFromWeb = "expired-web"
    /// Someone ran `vshare expire`.
    case expiredFromCLI = "expired-cli"
    /// The relay shut down and the agent did not come back after it restarted.
    case relayShutdown = "relay-shutdown"

    /// How the history words it.
    public var summary: String {
        switch self {
        case .agentStopped: return "stopped by its agent"
        case .expired: return "expired"
        case .expiredFromWeb: return "expired from the web interface"
        case .expiredFromCLI: return "expired from the command line"
        case .relayShutdown: return "ended when the relay shut down"
        }
    }
}
