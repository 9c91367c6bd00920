import Console
import Foundation
import Glibc
import Identity
import Store
import Synchronization
import Transport
import Wire

public enum RelayError: Error, CustomStringConvertible {
    case identity(String)
    case listen(String, SystemError)
    case tls(TLSError)
    case store(Error)

    public var description: String {
        switch self {
        case .identity(let why): return "cannot set up the relay's certificates: \(why)"
        case .listen(let what, let error):
            return "cannot listen on the \(what): \(error). Is another relay running? Choose another address with --\(what.split(separator: " ").first ?? "")."
        case .tls(let error): return "cannot set up TLS: \(error)"
        case .store(let error): return "cannot open the relay's database: \(error)"
        }
    }
}

/// `vshare relay`: the control port for agents, the public HTTP port, and the HTTPS (SNI) port.
/// One event loop per core; each share lives on the loop of its agent's connection, and public
/// connections move to that loop once they know which share they are for.
public final class RelayServer: @unchecked Sendable {
    public let config: RelayConfig
    let registry = ShareRegistry()
    /// Tickets joining a peer's and an agent's data connections.
    let rendezvous = DataRendezvous()
    let limiter: GuessLimiter
    /// `--basic-auth` checks (one scrypt each) on a thread of their own, never on a loop.
    let passwordChecker = PasswordChecker()
    /// Wrong SSH-key proofs, per client address and per share.
    let proofLimiter = SSHKeyVault.ProofLimiter()
    let group: EventLoopGroup
    /// What SIGHUP can change while connections stay up (`RelayServer+Lifecycle.swift`).
    struct ReloadableSettings {
        var tls: TLSContext
        var shareTTL: Int
        var httpTimeouts: HTTPProxyTimeouts
        var logRetention: Int
    }
    let settings: Mutex<ReloadableSettings>
    /// The certificate new control and web connections get (SIGHUP re-reads it).
    var tlsContext: TLSContext { settings.withLock { $0.tls } }
    /// How long new shares live (SIGHUP can change it; live shares keep their expiry).
    var shareTTL: Int { settings.withLock { $0.shareTTL } }
    /// Reads the settings again for SIGHUP (the CLI re-parses its arguments and `--config` file).
    public var reloadConfig: (@Sendable () throws -> RelayConfig)?
    /// Set on the accept loop when SIGTERM/SIGINT arrives.
    var isStopping = false
    let ownerToken: String
    /// The database in the data directory: users, shares across restarts, logs.
    let store: RelayStore?
    let identity: RelayIdentity?
    /// Counters for `GET /metrics` on the admin address.
    let metrics = RelayMetrics()
    private(set) var listeners: [Listener] = []
    /// Bytes held for slow public readers, across all loops (`RelayConfig.memoryBudget`).
    let memoryBudget: MemoryBudget
    /// Per-address connection caps of the ports, with the name each is reported under.
    private(set) var quotas: [(what: String, quota: ConnectionQuota)] = []

    public init(config: RelayConfig) throws(RelayError) {
        // Before the store's writer thread starts: a thread that does not block them would take
        // SIGTERM or SIGHUP with the default action, killing the relay instead of stopping it.
        TerminationSignals.block()
        self.config = config
        limiter = GuessLimiter(limits: config.limits)
        memoryBudget = MemoryBudget(limit: config.memoryBudget)
        do {
            group = try EventLoopGroup(count: config.loops, name: "relay")
            for loop in group.loops { loop.spinMicroseconds = config.busyPollMicroseconds }
        } catch {
            throw RelayError.listen("event loops", error)
        }
        let identity: RelayIdentity
        do {
            identity = try CertificateAuthority.loadOrCreate(dataDir: config.dataDir, hostnames: config.hostnames)
        } catch {
            throw RelayError.identity("\(error)")
        }
        self.identity = identity
        ownerToken = identity.token
        if config.storeEnabled {
            do {
                let store = try RelayStore(dataDir: config.dataDir,
                                           retention: LogRetention(maxAge: TimeInterval(config.logRetention)))
                try store.importOwner(token: identity.token)
                self.store = store
            } catch {
                throw RelayError.store(error)
            }
        } else {
            store = nil
        }
        AccessLog.store = store
        AccessLog.metrics = metrics
        do {
            let tls = try TLSContext.server(certificatePath: config.certificatePath ?? identity.certificatePath,
                                            keyPath: config.keyPath ?? identity.privateKeyPath)
            settings = Mutex(ReloadableSettings(tls: tls, shareTTL: config.shareTTL, httpTimeouts: config.httpTimeouts,
                                                logRetention: config.logRetention))
        } catch {
            throw RelayError.tls(error)
        }
    }

    /// Starts every listener and loop, and blocks until SIGINT or SIGTERM.
    /// The user a token belongs to (the owner token is the `admin` user); nil: refuse.
    func owner(forToken token: String) -> ShareOwner? {
        if let store {
            return store.user(forToken: token).map { ShareOwner(id: $0.id, name: $0.name, isAdmin: $0.isAdmin) }
        }
        return SecretToken.equal(token, ownerToken) ? ShareOwner(id: 0, name: "admin", isAdmin: true) : nil
    }

    /// The shares that were live when the relay last stopped wait for their agents again, with
    /// their names, secrets, rules and expiry (`RelayStore.restorable`).
    private func restoreShares() {
        guard let store else { return }
        var count = 0
        let owners = store.owners()
        for (record, request) in store.restorable() {
            let remaining = (record.expiresAt ?? Date.distantFuture).timeIntervalSinceNow
            let access = ShareAccess.rules(of: request, shareName: record.name)
            let owner = record.ownerID.flatMap { owners[$0] }
            if registry.restore(name: record.name, resumeSecret: record.resumeSecret, request: request,
                                expiresAt: MonotonicClock.now() + min(remaining, 1e9), loop: group.next(),
                                owner: owner, access: access) != nil { count += 1 }
        }
        if count > 0 {
            Console.headline("relay", "\(count) share\(count == 1 ? "" : "s") of the previous run wait\(count == 1 ? "s" : "") \(Int(config.reconnectGrace)) s for \(count == 1 ? "its agent" : "their agents") to reconnect.")
        }
    }

    public func run() throws(RelayError) -> Never {
        TerminationSignals.block()
        // Every browser connection is a descriptor: the default soft limit (often 1024) is too low.
        ProcessLimits.raiseOpenFileLimit()
        let acceptLoop = group.loops[0]
        restoreShares()
        let control = try listen("control port", config.control, on: acceptLoop) { [unowned self] socket, peer in
            let loop = self.group.next()
            loop.execute { ControlPortConnection.accept(socket: socket, peer: peer, relay: self, loop: loop) }
        }
        let http = try listen("http port", config.http, on: acceptLoop) { [unowned self] socket, peer in
            let loop = self.group.next()
            loop.execute { HTTPProxyConnection.accept(socket: socket, peer: peer, relay: self, loop: loop) }
        }
        let https = try listen("https port", config.https, on: acceptLoop) { [unowned self] socket, peer in
            let loop = self.group.next()
            loop.execute { TLSPassthroughConnection.accept(socket: socket, peer: peer, relay: self, loop: loop) }
        }
        let admin = try startAdmin(on: acceptLoop)
        let signals: TerminationSignals
        do {
            signals = try TerminationSignals(loop: acceptLoop) { [unowned self] signal in self.handle(signal: signal) }
        } catch {
            throw RelayError.listen("signals", error)
        }
        Console.headline("relay", "vshare relay \(VShareVersion.string) is running.")
        Console.detail("relay", "Control port: \(control.address)")
        Console.detail("relay", "Public HTTP: \(http.address) (http://NAME.\(config.domain)\(config.publicHTTPSuffix))")
        Console.detail("relay", "Public HTTPS (SNI): \(https.address)")
        if let admin {
            Console.detail("relay", "Web interface: \(AdminServer.usesTLS(admin.address) ? "https" : "http")://\(admin.address)/")
        }
        if let identity {
            if config.certificatePath == nil { Console.detail("relay", "CA certificate: \(identity.caCertificatePath)") }
            Console.detail("relay", "Owner token file: \(config.dataDir)/token")
        }
        Console.detail("relay", "Shares expire after \(DurationSyntax.format(seconds: config.shareTTL)).")
        scheduleSweep(on: acceptLoop)
        scheduleRefusalSummary(on: acceptLoop)
        MemoryTrimmer.start(on: acceptLoop)
        withExtendedLifetime(signals) {
            for loop in group.loops.dropFirst() { loop.startThread() }
            acceptLoop.run()
        }
        exit(0)
    }

    /// The web interface's listener (`--admin`), unless it is off.
    private func startAdmin(on loop: EventLoop) throws(RelayError) -> Listener? {
        guard let address = config.admin else { return nil }
        // Users, history and logs are the database's; with --store off only the owner token signs in.
        let authenticator: AdminAuthenticator = store.map { StoreAuthenticator(store: $0) }
            ?? OwnerTokenAuthenticator(ownerToken: ownerToken)
        let logBook: AdminLogBook = store.map { RelayLogBook(store: $0) } ?? NoRecordsLogBook()
        let app = AdminApp(authenticator: authenticator, directory: RelayShareDirectory(relay: self), logBook: logBook,
                           secure: AdminServer.usesTLS(address), metrics: { [unowned self] in self.metricsText() })
        return try listen("admin port", address, on: loop, capped: false) { [unowned self] socket, peer in
            AdminServer.accept(socket: socket, peer: peer, relay: self, app: app)
        }
    }

    /// A listener; `capped`: at most `maxConnectionsPerAddress` open connections per client
    /// address, the excess closed at accept (counted, and summed up by `scheduleRefusalSummary`).
    private func listen(_ what: String, _ address: SocketAddress, on loop: EventLoop, capped: Bool = true,
                        accept: @escaping (Socket, SocketAddress?) -> Void) throws(RelayError) -> Listener {
        var onAccept = accept
        if capped {
            let quota = ConnectionQuota(limit: config.maxConnectionsPerAddress)
            quotas.append((what, quota))
            onAccept = { socket, peer in
                guard quota.admit(socket, address: peer?.host ?? "unknown") else { return socket.abort() }
                accept(socket, peer)
            }
        }
        do {
            let listener = try Listener(address: address, loop: loop, onAccept: onAccept)
            try listener.start()
            listeners.append(listener)
            return listener
        } catch {
            throw RelayError.listen(what, error)
        }
    }

    /// Twice a second: end shares whose time is up, and shares whose agent did not come back; say
    /// how many lines a flood that stopped held back.
    private func scheduleSweep(on loop: EventLoop) {
        loop.schedule(after: 0.5) { [unowned self] in
            Console.flushThrottled()
            let now = MonotonicClock.now()
            self.rendezvous.sweep(now: now)
            for ended in self.registry.sweep(now: now, grace: self.config.reconnectGrace) {
                let stored: Store.ShareEndReason = ended.reason == .expired ? .expired
                    : (ended.entry.restored ? .relayShutdown : .agentStopped)
                self.recordShareEnded(ended.entry.name, reason: stored)
                Console.headline("relay", "Share \(ended.entry.name) \(ended.reason == .expired ? "expired" : "ended: its agent did not reconnect").")
                if let agent = ended.agent {
                    let reason = ended.reason
                    ended.loop.execute { agent.shareWasEnded(reason: reason) }
                }
            }
            self.scheduleSweep(on: loop)
        }
    }

    /// Open and refused connections of each capped port, for metrics ("control port" -> "control").
    func quotaSnapshot() -> [(port: String, open: Int, refused: Int)] {
        quotas.map { (String($0.what.split(separator: " ").first ?? ""), $0.quota.openConnections, $0.quota.refusedTotal) }
    }

    /// Every 10 s, one line per port that refused connections over the per-address cap, instead
    /// of one line per refusal (a flood would otherwise flood the log).
    private func scheduleRefusalSummary(on loop: EventLoop) {
        loop.schedule(after: 10) { [unowned self] in
            for (what, quota) in self.quotas {
                let refused = quota.takeRefused()
                if refused > 0 {
                    Console.headline("relay", "Refused \(refused) connection\(refused == 1 ? "" : "s") to the \(what) in the last 10 s: over \(quota.limit) open per client address.")
                }
            }
            self.scheduleRefusalSummary(on: loop)
        }
    }

    // MARK: Routing

    public enum Route {
        case share(ShareEntry, EventLoop)
        /// Not a live share (unknown, ended or expired: the answer never says which).
        case unknown
    }

    /// Finds the share a Host header (`NAME.DOMAIN[:PORT]`) or SNI name points at.
    func route(host: String?) -> Route {
        guard let name = shareName(fromHost: host), let found = registry.lookup(name) else { return .unknown }
        return .share(found.entry, found.loop)
    }

    func shareName(fromHost host: String?) -> String? {
        ShareHost.name(fromHost: host, domain: config.domain)
    }
}
