import Foundation

/// A relay user as the store knows it; the token is never part of it.
public struct User: Equatable, Sendable {
    public let id: Int64
    public let name: String
    /// Admins see and act on every share; other users only on their own.
    public let isAdmin: Bool
    public let createdAt: Date

    public init(id: Int64, name: String, isAdmin: Bool, createdAt: Date) {
        self.id = id
        self.name = name
        self.isAdmin = isAdmin
        self.createdAt = createdAt
    }
}
