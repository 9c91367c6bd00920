import Foundation
@testable import Store
import Wire
import XCTest

final class UserStoreTests: XCTestCase {
    private var temporary: TemporaryDatabase!
    private var database: SQLiteDatabase!
    private var users: UserStore!

    override func setUpWithError() throws {
        temporary = TemporaryDatabase()
        database = try temporary.open()
        users = UserStore(database: database, now: { Date(timeIntervalSince1970: 1_700_000_000) })
    }

    func testAddedUsersAreListedAndAuthenticateWithTheirOwnToken() throws {
        let alice = try users.add(name: "alice")
        let bob = try users.add(name: "bob")
        XCTAssertEqual(alice.count, 64)
        XCTAssertNotEqual(alice, bob)
        XCTAssertEqual(try users.list().map(\.name), ["alice", "bob"])
        XCTAssertEqual(try users.list().first?.createdAt, Date(timeIntervalSince1970: 1_700_000_000))
        XCTAssertEqual(try users.authenticate(token: alice)?.name, "alice")
        XCTAssertEqual(try users.authenticate(token: bob)?.name, "bob")
        XCTAssertNil(try users.authenticate(token: String(alice.dropLast()) + (alice.hasSuffix("0") ? "1" : "0")))
        XCTAssertNil(try users.authenticate(token: ""))
        XCTAssertEqual(try users.authenticate(token: alice)?.isAdmin, false)
    }

    func testTokensAreStoredOnlyAsSaltedHashes() throws {
        let token = try users.add(name: "alice")
        _ = try users.add(name: "bob")
        let rows = try database.prepare("SELECT token_hash, token_salt FROM users")
        var hashes: [[UInt8]] = []
        while try rows.step() == .row {
            let hash = rows.blob(at: 0) ?? []
            XCTAssertEqual(hash.count, 32)
            XCTAssertEqual(rows.blob(at: 1)?.count, 16)
            XCTAssertNotEqual(Hex.encode(hash), token)
            hashes.append(hash)
        }
        XCTAssertEqual(hashes.count, 2)
        try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let file = try Data(contentsOf: URL(fileURLWithPath: temporary.path))
        XCTAssertNil(file.range(of: Data(token.utf8)), "the token itself must not be in the database file")
    }

    func testRotatingATokenRetiresTheOldOne() throws {
        let old = try users.add(name: "alice")
        let new = try users.rotateToken(name: "alice")
        XCTAssertNotEqual(old, new)
        XCTAssertNil(try users.authenticate(token: old))
        XCTAssertEqual(try users.authenticate(token: new)?.name, "alice")
        XCTAssertThrowsError(try users.rotateToken(name: "nobody")) { XCTAssertEqual($0 as? StoreError, .noSuchUser("nobody")) }
    }

    func testRemovedUsersCannotAuthenticate() throws {
        let token = try users.add(name: "alice")
        try users.remove(name: "alice")
        XCTAssertNil(try users.authenticate(token: token))
        XCTAssertEqual(try users.list(), [])
        XCTAssertThrowsError(try users.remove(name: "alice")) { XCTAssertEqual($0 as? StoreError, .noSuchUser("alice")) }
    }

    func testNamesAreUniqueAndValidated() throws {
        _ = try users.add(name: "alice")
        XCTAssertThrowsError(try users.add(name: "alice")) { XCTAssertEqual($0 as? StoreError, .userExists("alice")) }
        for bad in ["", "a b", "<script>", String(repeating: "x", count: 65), "é"] {
            XCTAssertThrowsError(try users.add(name: bad), bad) { XCTAssertEqual($0 as? StoreError, .invalidUserName(bad)) }
        }
        XCTAssertNoThrow(try users.add(name: "Ops.team_2-b"))
        XCTAssertThrowsError(try users.add(name: "admin")) { XCTAssertEqual($0 as? StoreError, .reservedUserName("admin")) }
    }

    func testTheOwnerTokenIsImportedAsAdminOnce() throws {
        let owner = "0123456789abcdef0123456789abcdef0123456789abcdef"
        let admin = try users.ensureAdmin(token: owner)
        XCTAssertEqual(admin.name, "admin")
        XCTAssertTrue(admin.isAdmin)
        XCTAssertEqual(try users.authenticate(token: owner), admin)

        // A later start with another token (or the same) leaves admin, and a rotated token, alone.
        let rotated = try users.rotateToken(name: "admin")
        XCTAssertEqual(try users.ensureAdmin(token: owner), admin)
        XCTAssertNil(try users.authenticate(token: owner))
        XCTAssertEqual(try users.authenticate(token: rotated), admin)
        XCTAssertEqual(try users.list().count, 1)
    }

    func testAdminsCannotBeRemoved() throws {
        try users.ensureAdmin(token: "owner-token")
        XCTAssertThrowsError(try users.remove(name: "admin")) { XCTAssertEqual($0 as? StoreError, .cannotRemoveAdmin("admin")) }
        XCTAssertEqual(try users.find(name: "admin")?.isAdmin, true)
    }
}
