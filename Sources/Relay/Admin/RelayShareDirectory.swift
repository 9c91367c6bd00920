import Console
import Store
import Transport

/// The relay's live shares (its in-memory registry) as the web interface sees them: `admin` sees
/// every share, any other user only the shares made with their token.
final class RelayShareDirectory: AdminShareDirectory, @unchecked Sendable {
    private unowned let relay: RelayServer

    init(relay: RelayServer) { self.relay = relay }

    func liveShares(for user: AdminUser) -> [AdminShare] {
        let now = MonotonicClock.now()
        let config = relay.config
        return relay.registry.snapshot().filter { user.isAdmin || $0.entry.owner?.name == user.name }.map { share in
            let entry = share.entry
            var options: [String] = []
            if entry.httpEnabled { options.append("http") }
            if entry.httpsEnabled { options.append("https") }
            if share.hasSSH { options.append("ssh") }
            if entry.connectEnabled { options.append("connect") }
            return AdminShare(name: entry.name, url: entry.httpEnabled ? config.publicURL(for: entry.name) : nil,
                              httpsAddress: entry.httpsEnabled ? config.httpsAddress(for: entry.name) : nil,
                              expiresIn: max(0, Int(entry.expiresAt - now)), owner: entry.owner?.name ?? "",
                              options: options, agentConnected: !share.detached, target: entry.target,
                              requests: entry.traffic.requests, bytes: entry.traffic.bytes, peers: entry.traffic.peers)
        }
    }

    func expire(_ name: String, by user: AdminUser, from origin: AdminExpireOrigin) -> AdminExpireOutcome {
        guard let found = relay.registry.lookup(name) else { return .notFound }
        guard user.isAdmin || found.entry.owner?.name == user.name else {
            relay.store?.audit(actor: user.name, action: "share.expire.refused", subject: name, detail: "not the owner \(origin.auditNote)")
            return .forbidden
        }
        guard let ended = relay.registry.end(name) else { return .notFound }
        let reason: Store.ShareEndReason = origin.channel == .cli ? .expiredFromCLI : .expiredFromWeb
        Console.headline("relay", "Share \(name) \(reason.summary) by \(user.name).")
        relay.recordShareEnded(name, reason: reason, by: user.name, note: origin.auditNote)
        // The agent lives on its own loop: tell it there (it ends its connect sessions and hangs up).
        // The protocol has one reason for both: the CLI is the web interface's API.
        if let agent = ended.agent { ended.loop.execute { agent.shareWasEnded(reason: .expiredFromWeb) } }
        return .expired
    }
}
