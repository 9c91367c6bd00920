import Console
import Transport

/// The relay's live shares (its in-memory registry) as the web interface sees them. Every share
/// today is made with the owner token, so it belongs to `admin`; the store replaces this with
/// real owners.
final class RelayShareDirectory: AdminShareDirectory, @unchecked Sendable {
    private unowned let relay: RelayServer

    init(relay: RelayServer) { self.relay = relay }

    func liveShares(for user: AdminUser) -> [AdminShare] {
        guard user.isAdmin else { return [] }
        let now = MonotonicClock.now()
        let config = relay.config
        return relay.registry.snapshot().map { share in
            let entry = share.entry
            var options: [String] = []
            if entry.httpEnabled { options.append("http") }
            if entry.httpsEnabled { options.append("https") }
            if share.hasSSH { options.append("ssh") }
            if entry.connectEnabled { options.append("connect") }
            return AdminShare(name: entry.name, url: entry.httpEnabled ? config.publicURL(for: entry.name) : nil,
                              httpsAddress: entry.httpsEnabled ? config.httpsAddress(for: entry.name) : nil,
                              expiresIn: max(0, Int(entry.expiresAt - now)), owner: OwnerTokenAuthenticator.ownerName,
                              options: options, agentConnected: !share.detached)
        }
    }

    func expire(_ name: String, by user: AdminUser) -> Bool {
        guard user.isAdmin, let ended = relay.registry.end(name) else { return false }
        Console.headline("relay", "Share \(name) expired from the web interface by \(user.name).")
        // The agent lives on its own loop: tell it there (it ends its connect sessions and hangs up).
        if let agent = ended.agent { ended.loop.execute { agent.shareWasEnded(reason: .expiredFromWeb) } }
        return true
    }
}
