/// Someone signed in to the web interface or its API.
public struct AdminUser: Equatable, Sendable {
    public let name: String
    /// Sees and acts on every share, and reads the audit trail (the owner token's `admin`).
    public let isAdmin: Bool

    public init(name: String, isAdmin: Bool) {
        self.name = name
        self.isAdmin = isAdmin
    }
}

/// Turns a token typed into the login form (or sent as `Authorization: Bearer`) into a user.
/// A protocol so AdminApp is tested without a database (the relay's is `StoreAuthenticator`).
public protocol AdminAuthenticator: Sendable {
    func authenticate(token: String) -> AdminUser?
}
