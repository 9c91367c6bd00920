import Transport

/// What a browser connection asks of the relay: where a Host leads, the guessing limiter, the
/// password thread, and its timeouts. `RelayServer` answers (below); tests answer with a fake share and a fake tunnel.
protocol HTTPProxyRouter: AnyObject {
    var limiter: GuessLimiter { get }
    var httpTimeouts: HTTPProxyTimeouts { get }
    /// Where `--basic-auth` passwords are checked, off the event loops.
    var passwordChecker: PasswordChecker { get }
    /// The share offering HTTP at `host`, or nil (unknown, ended, expired or HTTP off: one answer).
    func httpShare(host: String?) -> HTTPProxyShare?
    func shareName(fromHost host: String?) -> String?
}

/// A share as the proxy sees it.
struct HTTPProxyShare {
    let name: String
    /// The loop that owns the share's agent connection; the browser connection moves there.
    let loop: EventLoop
    /// `--allow-ip` / `--basic-auth` (nil: none), checked before a request goes on.
    var access: ShareAccess? = nil
    /// The agent's tunnel if it is connected now; call on `loop` only.
    let tunnel: () -> TunnelStreams?
    /// Where the share's requests and bytes are counted (nil in tests).
    var traffic: ShareTraffic? = nil
}

extension RelayServer: HTTPProxyRouter {
    /// Read per new connection: SIGHUP can change them (connections keep the ones they started with).
    var httpTimeouts: HTTPProxyTimeouts { settings.withLock { $0.httpTimeouts } }

    func httpShare(host: String?) -> HTTPProxyShare? {
        guard case .share(let entry, let loop) = route(host: host), entry.httpEnabled else { return nil }
        var share = HTTPProxyShare(name: entry.name, loop: loop, access: entry.access) { [registry] in
            registry.openTunnel(of: entry, on: loop)
        }
        share.traffic = entry.traffic
        return share
    }
}
