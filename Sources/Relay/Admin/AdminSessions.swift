import Identity
import Transport

/// The web interface's server-side sessions: a random id (the cookie) → who signed in, the
/// session's CSRF token, and when it ends. Thread-safe: connections on every loop consult it.
/// The cookie carries nothing but the id, so logging out or expiring here ends the session for good.
public final class AdminSessions: @unchecked Sendable {
    public struct Session: Equatable, Sendable {
        public let id: String
        public let user: AdminUser
        /// Must come back in every form posted with this session (hidden field `csrf`).
        public let csrfToken: String
        public let expiresAt: Double
    }

    /// Sessions last this long from login (no sliding renewal: a stolen cookie ages out).
    public let lifetime: Double
    /// At most this many live sessions; the oldest goes first (bounded table).
    public let capacity: Int
    private let lock = Lock()
    private var sessions: [String: Session] = [:]

    public init(lifetime: Double = 12 * 3600, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// Starts a session for `user`, with fresh random id and CSRF token (CSPRNG).
    public func create(for user: AdminUser, now: Double = MonotonicClock.now()) -> Session {
        let session = Session(id: SecretToken.make(), user: user, csrfToken: SecretToken.make(), expiresAt: now + lifetime)
        lock.withLock {
            sessions = sessions.filter { $0.value.expiresAt > now }
            if sessions.count >= capacity, let oldest = sessions.values.min(by: { $0.expiresAt < $1.expiresAt }) {
                sessions[oldest.id] = nil
            }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session with this id, or nil (unknown, logged out or expired).
    public func lookup(_ id: String, now: Double = MonotonicClock.now()) -> Session? {
        lock.withLock {
            guard let session = sessions[id] else { return nil }
            guard session.expiresAt > now else { sessions[id] = nil; return nil }
            return session
        }
    }

    public func remove(_ id: String) {
        lock.withLock { sessions[id] = nil }
    }

    /// Whether a posted CSRF token is this session's (constant time).
    public static func csrfMatches(_ session: Session, _ token: String?) -> Bool {
        guard let token, !token.isEmpty else { return false }
        return SecretToken.equal(token, session.csrfToken)
    }
}
