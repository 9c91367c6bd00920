import Identity

/// Someone signed in to the web interface or its API.
public struct AdminUser: Equatable, Sendable {
    public let name: String
    /// Sees and acts on every share and reads the audit trail (the owner token's `admin`).
    public let isAdmin: Bool

    public init(name: String, isAdmin: Bool) {
        self.name = name
        self.isAdmin = isAdmin
    }
}

/// Turns a token typed into the login form (or sent as `Authorization: Bearer`) into a user.
/// A protocol so the relay's user store can take over from the owner token without touching the
/// web interface.
public protocol AdminAuthenticator: Sendable {
    func authenticate(token: String) -> AdminUser?
}

/// A relay run with `--store off` has no users: whoever holds its owner token is `admin`.
public struct OwnerTokenAuthenticator: AdminAuthenticator {
    public static let ownerName = "admin"
    private let ownerToken: String

    public init(ownerToken: String) { self.ownerToken = ownerToken }

    public func authenticate(token: String) -> AdminUser? {
        // Constant time: the comparison must not tell a guesser how much of the token was right.
        SecretToken.equal(token, ownerToken) ? AdminUser(name: Self.ownerName, isAdmin: true) : nil
    }
}
