import Console
import Foundation
import Store
import Glibc
import Transport
import Wire

/// SIGHUP reloads what can change under running connections; SIGTERM and SIGINT stop the relay
/// the way a load balancer's member should: stop accepting, let requests in flight finish (up to
/// `--drain`), then tell agents and peers to reconnect (GOAWAY) and exit 0. A second signal during
/// the drain stops at once.
extension RelayServer {
    func handle(signal: Int32) {
        if signal == SIGHUP { return reload() }
        if isStopping { return finishStopping(notice: "Stopping now (a second signal).") }
        isStopping = true
        for listener in listeners { listener.stop() }
        let inFlight = metrics.requestsInFlight
        Console.headline("relay", "Stopping: no new connections; \(inFlight) request\(inFlight == 1 ? "" : "s") in flight get up to \(DurationSyntax.format(seconds: Int(config.drain))) to finish.")
        waitForDrain(until: MonotonicClock.now() + config.drain)
    }

    private func waitForDrain(until deadline: Double) {
        let remaining = metrics.requestsInFlight
        if remaining == 0 { return finishStopping(notice: "Stopped.") }
        if MonotonicClock.now() >= deadline {
            return finishStopping(notice: "Stopped; \(remaining) request\(remaining == 1 ? " was" : "s were") still in flight after the drain.")
        }
        group.loops[0].schedule(after: 0.05) { [unowned self] in self.waitForDrain(until: deadline) }
    }

    /// Tells every agent (and its peers) that the relay is going, gives the loops a moment to send
    /// it, and exits. The shares stay in the database: agents that come back keep their names.
    private func finishStopping(notice: String) {
        for (agent, loop) in registry.attachedAgents() {
            loop.execute { agent.relayIsStopping() }
        }
        group.loops[0].schedule(after: 0.2) { [unowned self] in
            AccessLog.flush()
            self.store?.close()
            if let dropped = self.store?.droppedLogRows, dropped > 0 {
                Console.detail("relay", "\(dropped) log rows were dropped: the disk could not keep up.")
            }
            Console.headline("relay", notice)
            exit(0)
        }
    }

    /// Re-reads the settings (`--config` and the command line) and applies those that can change
    /// without dropping a connection; says what it applied and what needs a restart.
    func reload() {
        guard let reloadConfig else {
            return Console.detail("relay", "SIGHUP: nothing to reload (this relay was not started from the command line).")
        }
        let fresh: RelayConfig
        do {
            fresh = try reloadConfig()
        } catch {
            return Console.error("==> relay: cannot reload, the running settings stay: \(error)")
        }
        var applied: [String] = []
        let certificate = fresh.certificatePath ?? identity?.certificatePath ?? ""
        let key = fresh.keyPath ?? identity?.privateKeyPath ?? ""
        do {
            let context = try TLSContext.server(certificatePath: certificate, keyPath: key)
            settings.withLock { $0.tls = context }
            applied.append("the certificate (\(certificate))")
        } catch {
            Console.error("==> relay: cannot load the certificate, the running one stays: \(error)")
        }
        let retentionChanged = settings.withLock { current -> Bool in
            current.shareTTL = fresh.shareTTL
            current.httpTimeouts = fresh.httpTimeouts
            defer { current.logRetention = fresh.logRetention }
            return current.logRetention != fresh.logRetention
        }
        applied.append("share TTL \(DurationSyntax.format(seconds: fresh.shareTTL)) for new shares")
        applied.append("HTTP timeouts for new connections")
        memoryBudget.setLimit(fresh.memoryBudget)
        for (_, quota) in quotas { quota.setLimit(fresh.maxConnectionsPerAddress) }
        applied.append("memory budget \(fresh.memoryBudget >> 20) MiB")
        applied.append("\(fresh.maxConnectionsPerAddress) connections per address")
        if let store, retentionChanged {
            store.setRetention(LogRetention(maxAge: TimeInterval(fresh.logRetention)))
            applied.append("log retention \(DurationSyntax.format(seconds: fresh.logRetention))")
        }
        Console.headline("relay", "Reloaded \(applied.joined(separator: ", ")).")
        let needRestart = RelayConfig.restartOnlySettings(from: config, to: fresh)
        if !needRestart.isEmpty {
            Console.detail("relay", "Changed but not reloaded (restart the relay to apply): \(needRestart.joined(separator: ", ")).")
        }
    }
}

extension RelayConfig {
    /// The settings a running relay cannot change (listening sockets, names, where its data is)
    /// that differ between `old` and `new`, as option names.
    static func restartOnlySettings(from old: RelayConfig, to new: RelayConfig) -> [String] {
        var changed: [String] = []
        func differ(_ a: SocketAddress?, _ b: SocketAddress?) -> Bool { a.map { "\($0)" } != b.map { "\($0)" } }
        if differ(old.control, new.control) { changed.append("--control") }
        if differ(old.http, new.http) { changed.append("--http") }
        if differ(old.https, new.https) { changed.append("--https") }
        if differ(old.admin, new.admin) { changed.append("--admin") }
        if old.domain != new.domain { changed.append("--domain") }
        if old.dataDir != new.dataDir { changed.append("--data-dir") }
        if old.hostnames != new.hostnames { changed.append("--hostname") }
        if old.storeEnabled != new.storeEnabled { changed.append("--store") }
        if old.mux.initialWindow != new.mux.initialWindow { changed.append("--stream-window") }
        if old.drain != new.drain { changed.append("--drain") }
        if old.joinTimeout != new.joinTimeout { changed.append("--join-timeout") }
        return changed
    }
}
