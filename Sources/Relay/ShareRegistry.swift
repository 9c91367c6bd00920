import Identity
import enum Store.ResumeSecretDigest
import Transport
import Wire

/// One live share. The immutable facts are readable anywhere; `loop` and `agent` change when the
/// agent reconnects and are read under the registry's lock, while the agent itself is touched only
/// on its own loop.
public final class ShareEntry: @unchecked Sendable {
    public let name: String
    let resumeSecret: String
    /// `resumeSecret` is the digest the store keeps (a restored share), not the secret itself.
    let resumeSecretIsDigest: Bool
    let httpEnabled: Bool
    let httpsEnabled: Bool
    /// Peers may join for end-to-end connect sessions (not `--no-connect`).
    let connectEnabled: Bool
    /// `--allow-ip` / `--basic-auth` on the public URLs (nil: none).
    let access: ShareAccess?
    let expiresAt: Double
    // Read and written only under the registry's lock (see `ShareRegistry.agent(of:on:)`).
    fileprivate var loop: EventLoop
    fileprivate weak var agent: AgentSession?
    fileprivate(set) var detachedSince: Double?
    /// `--ssh`: the sealed key and its verifier (see `SSHKeyVault`). Under the registry's lock.
    fileprivate var ssh: SSHKeyBlob?

    /// Who made the share (a user of the store), for the audit trail and the web interface.
    let owner: ShareOwner?
    /// What the share says it shows (`10.0.0.5, http 80`), for the web interface.
    let target: String
    /// Requests, bytes and peers so far.
    let traffic = ShareTraffic()
    /// Brought back from the store by a restarted relay: until its agent resumes it, a share that
    /// times out ended with the relay's shutdown, not because its agent left.
    fileprivate(set) var restored: Bool

    init(name: String, resumeSecret: String, httpEnabled: Bool, httpsEnabled: Bool, connectEnabled: Bool,
         access: ShareAccess?, expiresAt: Double, loop: EventLoop, agent: AgentSession?, owner: ShareOwner?,
         target: String = "", restored: Bool = false) {
        self.name = name
        self.resumeSecret = resumeSecret
        self.resumeSecretIsDigest = restored
        self.httpEnabled = httpEnabled
        self.httpsEnabled = httpsEnabled
        self.connectEnabled = connectEnabled
        self.access = access
        self.expiresAt = expiresAt
        self.loop = loop
        self.agent = agent
        self.owner = owner
        self.target = target
        self.restored = restored
        if agent == nil { detachedSince = MonotonicClock.now() }
    }
}

/// A share's owner as the store knows it.
struct ShareOwner: Equatable, Sendable {
    let id: Int64
    let name: String
    let isAdmin: Bool
}

/// The relay's table of live shares, shared by all loops.
public final class ShareRegistry: @unchecked Sendable {
    fileprivate let lock = Lock()
    fileprivate var shares: [String: ShareEntry] = [:]
    private let names = ShareNameGenerator()

    public init() {}

    public var count: Int { lock.withLock { shares.count } }

    /// Creates a share under a fresh name that no live share has.
    /// `access` makes the share's rules once its name is known (the 401 challenge names it).
    func create(httpEnabled: Bool, httpsEnabled: Bool, connectEnabled: Bool = true, ttl: Int, loop: EventLoop, agent: AgentSession,
                ssh: SSHKeyBlob? = nil, owner: ShareOwner? = nil, target: String = "",
                access: (String) -> ShareAccess? = { _ in nil }) -> ShareEntry {
        lock.withLock {
            let name = names.next(isTaken: { shares[$0] != nil })
            let entry = ShareEntry(name: name, resumeSecret: SecretToken.make(), httpEnabled: httpEnabled,
                                   httpsEnabled: httpsEnabled, connectEnabled: connectEnabled, access: access(name),
                                   expiresAt: MonotonicClock.now() + Double(ttl),
                                   loop: loop, agent: agent, owner: owner, target: target)
            entry.ssh = ssh
            shares[name] = entry
            return entry
        }
    }

    /// A share of the relay's previous run (from the store), waiting for its agent to resume it with
    /// its name and secret; it expires when it always would have. A name already taken is skipped.
    /// `resumeSecret` is the secret's digest, as the store keeps it (`ResumeSecretDigest`).
    @discardableResult
    func restore(name: String, resumeSecret: String, request: CreateShare, expiresAt: Double, loop: EventLoop,
                 owner: ShareOwner?, access: ShareAccess?) -> ShareEntry? {
        lock.withLock {
            guard shares[name] == nil else { return nil }
            let entry = ShareEntry(name: name, resumeSecret: resumeSecret, httpEnabled: request.httpEnabled,
                                   httpsEnabled: request.httpsEnabled, connectEnabled: request.connect, access: access,
                                   expiresAt: expiresAt, loop: loop, agent: nil, owner: owner,
                                   target: request.target ?? "", restored: true)
            entry.ssh = request.ssh
            shares[name] = entry
            return entry
        }
    }

    func lookup(_ name: String) -> (entry: ShareEntry, loop: EventLoop)? {
        lock.withLock {
            guard let entry = shares[name] else { return nil }
            return (entry, entry.loop)
        }
    }

    /// Gives a share back to its reconnected agent when the secret matches.
    func resume(name: String, secret: String, loop: EventLoop, agent: AgentSession) -> ShareEntry? {
        lock.withLock {
            guard let entry = shares[name],
                  SecretToken.equal(entry.resumeSecret, entry.resumeSecretIsDigest ? ResumeSecretDigest.of(secret) : secret) else { return nil }
            entry.loop = loop
            entry.agent = agent
            entry.detachedSince = nil
            entry.restored = false
            return entry
        }
    }

    /// Marks the agent gone; the share waits for a reconnect.
    func detach(_ entry: ShareEntry, agent: AgentSession) {
        lock.withLock {
            if entry.agent === agent { entry.agent = nil; entry.detachedSince = MonotonicClock.now() }
        }
    }

    /// The share's agent, if it is attached and lives on `loop` (the caller's): the only agent a
    /// connection on that loop may touch.
    func agent(of entry: ShareEntry, on loop: EventLoop) -> AgentSession? {
        lock.withLock {
            guard let agent = entry.agent, entry.loop === loop else { return nil }
            return agent
        }
    }

    /// The tunnel of the share's agent when it is on `loop` and open: where a browser's or an HTTPS
    /// client's stream goes; nil while the agent is away (reconnecting) or the share moved.
    func openTunnel(of entry: ShareEntry, on loop: EventLoop) -> TunnelConnection? {
        guard let tunnel = agent(of: entry, on: loop)?.tunnel, tunnel.isOpen else { return nil }
        return tunnel
    }

    func remove(_ entry: ShareEntry) {
        lock.withLock {
            entry.ssh = nil
            if shares[entry.name] === entry { shares[entry.name] = nil }
        }
    }
}

extension ShareRegistry {
    /// Removes shares past their expiry, or detached longer than `grace`; says why for each.
    /// Returns, for each, the loop and agent (if attached) to tell.
    func sweep(now: Double, grace: Double) -> [(entry: ShareEntry, reason: ShareEndReason, loop: EventLoop, agent: AgentSession?)] {
        lock.withLock {
            var ended: [(entry: ShareEntry, reason: ShareEndReason, loop: EventLoop, agent: AgentSession?)] = []
            for entry in shares.values {
                if entry.expiresAt <= now {
                    ended.append((entry, .expired, entry.loop, entry.agent))
                } else if entry.agent == nil, let since = entry.detachedSince, now - since > grace {
                    ended.append((entry, .abandoned, entry.loop, nil))
                }
            }
            for ending in ended { shares[ending.entry.name] = nil; ending.entry.ssh = nil }
            return ended
        }
    }
}

extension ShareRegistry {
    /// The KDF parameters of a live share's SSH key (`sshParams`).
    func sshParams(_ name: String) -> SSHKeyVault.Lookup<SSHKDFParams> {
        lock.withLock {
            guard let entry = shares[name] else { return .notFound }
            guard let blob = entry.ssh else { return .noSSH }
            return .found(blob.kdf)
        }
    }

    /// Releases a live share's sealed key for a proof equal to its verifier (constant-time); an
    /// `--ssh-once` key is deleted in the same critical section, so of two simultaneous correct
    /// requests exactly one gets it.
    /// The sealed key for a matching proof. A `--ssh-once` key is deleted in the same locked step
    /// (two simultaneous correct requests: one wins); its agent, if attached, is returned to be told.
    func releaseSSHKey(_ name: String, proof: [UInt8]) -> SSHKeyVault.Lookup<(sealed: SSHSealedKey, onceAgent: (AgentSession, EventLoop)?)> {
        lock.withLock {
            guard let entry = shares[name] else { return .notFound }
            guard let blob = entry.ssh else { return .noSSH }
            guard SSHKeyVault.matches(proof: proof, verifier: blob.verifier) else { return .wrongProof }
            guard blob.once else { return .found((blob.sealed, nil)) }
            entry.ssh = nil
            return .found((blob.sealed, entry.agent.map { ($0, entry.loop) }))
        }
    }
}

extension ShareRegistry {
    /// What the web interface shows of one live share, copied under the lock.
    struct Snapshot {
        let entry: ShareEntry
        /// Waiting for its agent to reconnect.
        let detached: Bool
        /// Offers SSH (`--ssh`) and its key was not released once yet.
        let hasSSH: Bool
    }

    /// Every live share, by name.
    func snapshot() -> [Snapshot] {
        lock.withLock {
            shares.values.sorted { $0.name < $1.name }.map { Snapshot(entry: $0, detached: $0.agent == nil, hasSSH: $0.ssh != nil) }
        }
    }

    /// Every share's agent that is connected now, with the loop it lives on.
    func attachedAgents() -> [(AgentSession, EventLoop)] {
        lock.withLock { shares.values.compactMap { entry in entry.agent.map { ($0, entry.loop) } } }
    }

    /// Removes a live share at once (Expire now); returns its loop and agent (if attached) to tell.
    func end(_ name: String) -> (entry: ShareEntry, loop: EventLoop, agent: AgentSession?)? {
        lock.withLock {
            guard let entry = shares[name] else { return nil }
            shares[name] = nil
            entry.ssh = nil
            return (entry, entry.loop, entry.agent)
        }
    }
}
