import CInterop
import Identity
import Transport
import Wire

/// A share's access rules on its public URLs (`--allow-ip`, `--basic-auth`), checked by the relay
/// before anything reaches the machine. Shared by every loop that serves the share.
final class ShareAccess: @unchecked Sendable {
    /// Empty: every address.
    let networks: [IPNetwork]
    let basicAuth: BasicAuthVerifier?
    /// The 401's challenge: a browser shows its login dialog for this realm.
    let challenge: String

    /// SHA-256 of header values already verified, so a password costs one scrypt, not one per
    /// request; bounded (the oldest goes), and never the password's stored form.
    private let lock = Lock()
    private var verified: [[UInt8]] = []
    static let verifiedLimit = 32

    init(shareName: String, networks: [IPNetwork], basicAuth: BasicAuthVerifier?) {
        self.networks = networks
        self.basicAuth = basicAuth
        challenge = "Basic realm=\"vshare \(shareName)\""
    }

    /// Whether the TCP peer `clientIP` may reach the share (an address that does not parse may not,
    /// once there is a list).
    func allows(clientIP: String) -> Bool {
        guard !networks.isEmpty else { return true }
        // A link-local IPv6 peer carries its zone (`fe80::1%eth0`); the address is what is listed.
        let address = clientIP.split(separator: "%", maxSplits: 1).first.flatMap { IPAddress($0) }
        guard let address else { return false }
        return networks.contains { $0.contains(address) }
    }

    /// Whether `authorization` was verified before (one SHA-256 and a look at the cache: cheap).
    func isVerified(_ authorization: String) -> Bool {
        let digest = BasicAuthHash.sha256(authorization.utf8)
        return lock.withLock { verified.contains(digest) }
    }

    /// One scrypt against the share's verifier; a match is cached. Thread-safe, and slow: call it off
    /// the event loops (`PasswordChecker`).
    func verify(_ authorization: String) -> Bool {
        guard let basicAuth, let credentials = BasicAuthorization(headerValue: authorization) else { return false }
        var password = credentials.password
        defer { wipeSecret(&password) }
        guard BasicAuthHash.matches(basicAuth, user: credentials.user, password: password) else { return false }
        let digest = BasicAuthHash.sha256(authorization.utf8)
        lock.withLock {
            if verified.count >= ShareAccess.verifiedLimit { verified.removeFirst() }
            if !verified.contains(digest) { verified.append(digest) }
        }
        return true
    }
}

extension ShareAccess {
    /// The rules a `createShare` asks for, or nil when it asks for none: one place for a new share
    /// and for one a restarted relay restores from its database.
    static func rules(of request: CreateShare, shareName: String) -> ShareAccess? {
        let networks = request.allowIP ?? []
        guard request.basicAuth != nil || !networks.isEmpty else { return nil }
        return ShareAccess(shareName: shareName, networks: networks, basicAuth: request.basicAuth)
    }

    /// What the relay does with one request, and the access log's reason when it refuses.
    enum Admission: Equatable {
        case admit
        /// Answer `status` (after `delay` seconds: a password guesser is slowed like a name guesser).
        case refuse(status: Int, reason: String, delay: Double)
        /// A password not seen verified: run `verify(authorization)` off the loop (one scrypt), then
        /// `admit(clientIP:passwordMatched:limiter:)` with its result.
        case checkPassword(authorization: String)
    }

    /// The rules in order: the address first (no password is even looked at from elsewhere), then
    /// the password. A client the limiter refuses is refused before any scrypt; a password already
    /// verified is admitted at once; any other asks for a check.
    func admit(clientIP: String, authorization: String?, limiter: GuessLimiter) -> Admission {
        guard allows(clientIP: clientIP) else { return .refuse(status: 403, reason: "allow-ip", delay: 0) }
        guard basicAuth != nil else { return .admit }
        guard let authorization else { return .refuse(status: 401, reason: "basic-auth:missing", delay: 0) }
        if limiter.isRefused(clientIP) { return .refuse(status: 429, reason: "basic-auth:throttled", delay: 0) }
        if isVerified(authorization) { return .admit }
        guard BasicAuthorization(headerValue: authorization) != nil else { return wrongPassword(clientIP: clientIP, limiter: limiter) }
        return .checkPassword(authorization: authorization)
    }

    /// After the check: a wrong password counts as a miss in `limiter`, so a client that keeps
    /// guessing is slowed, then refused (429) before it can make the relay run more scrypts.
    func admit(clientIP: String, passwordMatched: Bool, limiter: GuessLimiter) -> Admission {
        passwordMatched ? .admit : wrongPassword(clientIP: clientIP, limiter: limiter)
    }

    private func wrongPassword(clientIP: String, limiter: GuessLimiter) -> Admission {
        switch limiter.recordMiss(clientIP) {
        case .allow: return .refuse(status: 401, reason: "basic-auth:wrong", delay: 0)
        case .delay(let seconds): return .refuse(status: 401, reason: "basic-auth:wrong", delay: seconds)
        case .refuse: return .refuse(status: 429, reason: "basic-auth:throttled", delay: 0)
        }
    }
}
