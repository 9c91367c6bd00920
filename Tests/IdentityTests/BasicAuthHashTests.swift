import Foundation
import Identity
import Wire
import XCTest

final class BasicAuthHashTests: XCTestCase {
    func testMatchesOnlyTheRightUserAndPassword() throws {
        let verifier = try BasicAuthHash.make(user: "alice", password: Array("s3cret".utf8))
        XCTAssertTrue(BasicAuthHash.isAcceptable(verifier))
        XCTAssertEqual(verifier.kdf.logN, BasicAuthHash.logN)
        XCTAssertFalse(verifier.hash.contains("s3cret"))
        XCTAssertTrue(BasicAuthHash.matches(verifier, user: "alice", password: Array("s3cret".utf8)))
        XCTAssertFalse(BasicAuthHash.matches(verifier, user: "alice", password: Array("s3cret!".utf8)))
        XCTAssertFalse(BasicAuthHash.matches(verifier, user: "bob", password: Array("s3cret".utf8)))
    }

    func testEachHashHasItsOwnSalt() throws {
        let a = try BasicAuthHash.make(user: "u", password: [1, 2, 3])
        let b = try BasicAuthHash.make(user: "u", password: [1, 2, 3])
        XCTAssertNotEqual(a.kdf.salt, b.kdf.salt)
        XCTAssertNotEqual(a.hash, b.hash)
    }

    func testRelayRefusesCostlierOrMalformedRecords() throws {
        let good = try BasicAuthHash.make(user: "u", password: [])
        var costly = good
        costly.kdf.logN = 20
        XCTAssertFalse(BasicAuthHash.isAcceptable(costly), "an agent cannot make the relay spend more per request")
        var parallel = good
        parallel.kdf.p = 4
        XCTAssertFalse(BasicAuthHash.isAcceptable(parallel))
        var shortHash = good
        shortHash.hash = "AAAA"
        XCTAssertFalse(BasicAuthHash.isAcceptable(shortHash))
        var noUser = good
        noUser.user = ""
        XCTAssertFalse(BasicAuthHash.isAcceptable(noUser))
    }

    func testSHA256() {
        XCTAssertEqual(Hex.encode(BasicAuthHash.sha256(Array("abc".utf8))),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
