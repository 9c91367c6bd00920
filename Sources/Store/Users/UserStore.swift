import Foundation

/// The relay's users and their tokens. Tokens are returned once, when made, and stored only as
/// salted hashes (TokenHash), so the database never holds a working token.
/// Uses its connection from one thread at a time, like SQLiteDatabase.
public final class UserStore {
    /// The user the owner token becomes on the relay's first start.
    public static let adminName = "admin"

    private let database: SQLiteDatabase
    private let now: () -> Date

    public init(database: SQLiteDatabase, now: @escaping () -> Date = Date.init) {
        self.database = database
        self.now = now
    }

    /// Adds a user and returns their new token (the only time it is visible). `admin` is reserved:
    /// if `user add admin` ran before the relay's first start, the owner token would not become it.
    public func add(name: String, isAdmin: Bool = false) throws -> String {
        guard name != Self.adminName else { throw StoreError.reservedUserName(name) }
        let token = TokenHash.makeToken()
        try insert(name: name, token: token, isAdmin: isAdmin)
        return token
    }

    /// Every user, by name.
    public func list() throws -> [User] {
        let statement = try database.prepare("SELECT id, name, is_admin, created_at FROM users ORDER BY name")
        var users: [User] = []
        while try statement.step() == .row { users.append(Self.user(from: statement)) }
        return users
    }

    /// Removes a user who is not an admin. Their shares stay in the history, with no owner.
    public func remove(name: String) throws {
        guard let user = try find(name: name) else { throw StoreError.noSuchUser(name) }
        guard !user.isAdmin else { throw StoreError.cannotRemoveAdmin(name) }
        let statement = try database.prepare("DELETE FROM users WHERE id = ?1")
        try statement.bind(user.id, at: 1)
        try statement.run()
    }

    /// Gives a user a new token and returns it; the old one stops working at once.
    public func rotateToken(name: String) throws -> String {
        let token = TokenHash.makeToken()
        let salt = TokenHash.makeSalt()
        let statement = try database.prepare("UPDATE users SET token_hash = ?1, token_salt = ?2 WHERE name = ?3")
        try statement.bind(try TokenHash.hash(token: token, salt: salt), at: 1)
        try statement.bind(salt, at: 2)
        try statement.bind(name, at: 3)
        try statement.run()
        guard database.changes == 1 else { throw StoreError.noSuchUser(name) }
        return token
    }

    /// The user whose token this is, or nil. Every user's hash is checked, each in constant time,
    /// so the time taken says nothing about which user (or how much of a token) matched.
    public func authenticate(token: String) throws -> User? {
        let statement = try database.prepare("SELECT id, name, is_admin, created_at, token_salt, token_hash FROM users")
        var found: User?
        while try statement.step() == .row {
            let salt = statement.blob(at: 4) ?? []
            let hash = statement.blob(at: 5) ?? []
            if try TokenHash.matches(token: token, salt: salt, expected: hash) { found = Self.user(from: statement) }
        }
        return found
    }

    /// Makes the relay's existing owner token the `admin` user's, once: when there is no `admin`
    /// yet. Later starts leave `admin` alone, so a token rotated with `user token admin` stays rotated.
    @discardableResult
    public func ensureAdmin(token: String) throws -> User {
        try database.inTransaction {
            if let admin = try find(name: Self.adminName) { return admin }
            try insert(name: Self.adminName, token: token, isAdmin: true)
            guard let admin = try find(name: Self.adminName) else { throw StoreError.noSuchUser(Self.adminName) }
            return admin
        }
    }

    public func find(name: String) throws -> User? {
        let statement = try database.prepare("SELECT id, name, is_admin, created_at FROM users WHERE name = ?1")
        try statement.bind(name, at: 1)
        return try statement.step() == .row ? Self.user(from: statement) : nil
    }

    private func insert(name: String, token: String, isAdmin: Bool) throws {
        guard Self.isValid(name: name) else { throw StoreError.invalidUserName(name) }
        if try find(name: name) != nil { throw StoreError.userExists(name) }
        let salt = TokenHash.makeSalt()
        let statement = try database.prepare(
            "INSERT INTO users (name, token_hash, token_salt, created_at, is_admin) VALUES (?1, ?2, ?3, ?4, ?5)")
        try statement.bind(name, at: 1)
        try statement.bind(try TokenHash.hash(token: token, salt: salt), at: 2)
        try statement.bind(salt, at: 3)
        try statement.bind(now().unixMilliseconds, at: 4)
        try statement.bind(isAdmin ? 1 : 0, at: 5)
        try statement.run()
    }

    /// 1 to 64 of [A-Za-z0-9._-]: safe on a command line, in a URL and in a log line.
    static func isValid(name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): return true
            default: return false
            }
        }
    }

    private static func user(from row: SQLiteStatement) -> User {
        User(id: row.int64(at: 0), name: row.string(at: 1) ?? "", isAdmin: row.int64(at: 2) != 0,
             createdAt: Date(unixMilliseconds: row.int64(at: 3)))
    }
}
