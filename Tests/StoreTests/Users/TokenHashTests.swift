@testable import Store
import Wire
import XCTest

final class TokenHashTests: XCTestCase {
    func testIsHMACSHA256KeyedWithTheSalt() throws {
        // RFC 4231, test case 2.
        let hash = try TokenHash.hash(token: "what do ya want for nothing?", salt: Array("Jefe".utf8))
        XCTAssertEqual(Hex.encode(hash), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testTokensAndSaltsAreFreshRandomValues() throws {
        let token = TokenHash.makeToken()
        XCTAssertEqual(Hex.decode(token)?.count, 32)
        XCTAssertNotEqual(token, TokenHash.makeToken())
        XCTAssertNotEqual(TokenHash.makeSalt(), TokenHash.makeSalt())
        let salt = TokenHash.makeSalt()
        let hash = try TokenHash.hash(token: token, salt: salt)
        XCTAssertTrue(try TokenHash.matches(token: token, salt: salt, expected: hash))
        XCTAssertFalse(try TokenHash.matches(token: token, salt: TokenHash.makeSalt(), expected: hash))
        XCTAssertFalse(try TokenHash.matches(token: token + "0", salt: salt, expected: hash))
    }
}
