import Foundation
@testable import Store
import XCTest

final class ShareStoreTests: XCTestCase {
    private var temporary: TemporaryDatabase!
    private var database: SQLiteDatabase!
    private var shares: ShareStore!
    private var ownerID: Int64 = 0

    override func setUpWithError() throws {
        temporary = TemporaryDatabase()
        database = try temporary.open()
        shares = ShareStore(database: database)
        let users = UserStore(database: database)
        _ = try users.add(name: "alice")
        ownerID = try XCTUnwrap(users.find(name: "alice")).id
    }

    private func share(_ name: String, owner: Int64?, created: TimeInterval = 1_700_000_000) -> ShareRecord {
        ShareRecord(name: name, ownerID: owner, target: "192.168.56.10 http:80", optionsJSON: #"{"http":80,"ttl":28800}"#,
                    resumeSecret: "secret-\(name)", createdAt: Date(timeIntervalSince1970: created),
                    expiresAt: Date(timeIntervalSince1970: created + 28_800.5))
    }

    func testASavedShareIsLiveAfterARestart() throws {
        let saved = share("frosty-weasel-0857", owner: ownerID)
        try shares.save(saved)
        XCTAssertEqual(try shares.liveShares(), [saved])

        database = nil
        shares = nil
        let reopened = ShareStore(database: try temporary.open())
        XCTAssertEqual(try reopened.liveShares(), [saved], "name, options, resume secret and expiry survive a restart")
    }

    func testEndingMovesAShareToTheHistory() throws {
        try shares.save(share("a", owner: ownerID))
        let endedAt = Date(timeIntervalSince1970: 1_700_000_100)
        XCTAssertTrue(try shares.end(name: "a", reason: .expiredFromWeb, at: endedAt))
        XCTAssertFalse(try shares.end(name: "a", reason: .expired, at: endedAt), "an ended share stays ended the first way")
        XCTAssertFalse(try shares.end(name: "unknown", reason: .expired, at: endedAt))
        XCTAssertEqual(try shares.liveShares(), [])
        let history = try shares.history(owner: nil, limit: 10)
        XCTAssertEqual(history.count, 1)
        XCTAssertEqual(history.first?.endedAt, endedAt)
        XCTAssertEqual(history.first?.endReason, .expiredFromWeb)
        XCTAssertEqual(history.first?.endReason?.summary, "expired from the web interface")
    }

    func testNamesAreNotReusedWhileInTheHistory() throws {
        try shares.save(share("a", owner: ownerID))
        try shares.end(name: "a", reason: .agentStopped, at: Date())
        XCTAssertTrue(try shares.contains(name: "a"))
        XCTAssertThrowsError(try shares.save(share("a", owner: ownerID))) { XCTAssertEqual($0 as? StoreError, .shareExists("a")) }
    }

    func testHistoryIsNewestFirstPerOwnerAndLimited() throws {
        let users = UserStore(database: database)
        _ = try users.add(name: "bob")
        let bob = try XCTUnwrap(users.find(name: "bob")).id
        for (index, owner) in [ownerID, bob, ownerID, ownerID].enumerated() {
            let name = "s\(index)"
            try shares.save(share(name, owner: owner))
            try shares.end(name: name, reason: .expired, at: Date(timeIntervalSince1970: 1_700_000_000 + Double(index)))
        }
        try shares.save(share("live", owner: ownerID))
        XCTAssertEqual(try shares.history(owner: nil, limit: 10).map(\.name), ["s3", "s2", "s1", "s0"])
        XCTAssertEqual(try shares.history(owner: ownerID, limit: 10).map(\.name), ["s3", "s2", "s0"])
        XCTAssertEqual(try shares.history(owner: bob, limit: 10).map(\.name), ["s1"])
        XCTAssertEqual(try shares.history(owner: ownerID, limit: 2).map(\.name), ["s3", "s2"])
    }

    func testRemovingTheOwnerKeepsTheHistoryWithNoOwner() throws {
        let users = UserStore(database: database)
        _ = try users.add(name: "carol")
        let carol = try XCTUnwrap(users.find(name: "carol")).id
        try shares.save(share("c", owner: carol))
        try shares.end(name: "c", reason: .expiredFromCLI, at: Date())
        try users.remove(name: "carol")
        XCTAssertEqual(try shares.history(owner: nil, limit: 10).first?.ownerID, nil)
        XCTAssertEqual(try shares.history(owner: nil, limit: 10).first?.name, "c")
    }

    func testAShareMayNeverExpireAndAnUnknownEndReasonIsReportedAsDamage() throws {
        var forever = share("forever", owner: nil)
        forever.expiresAt = nil
        try shares.save(forever)
        XCTAssertEqual(try shares.liveShares().first?.expiresAt, nil)
        try database.execute("UPDATE shares SET ended_at = 5, end_reason = 'cosmic-rays'")
        XCTAssertThrowsError(try shares.history(owner: nil, limit: 1)) { error in
            guard case .corrupt = error as? StoreError else { return XCTFail("\(error)") }
        }
    }

    func testFindsAShareByNameLiveOrEnded() throws {
        try shares.save(share("a", owner: ownerID))
        XCTAssertEqual(try shares.share(named: "a")?.ownerID, ownerID)
        try shares.end(name: "a", reason: .expired, at: Date(timeIntervalSince1970: 1_700_000_100))
        XCTAssertEqual(try shares.share(named: "a")?.endReason, .expired)
        XCTAssertNil(try shares.share(named: "b"))
    }
}
