import Wire
import XCTest

final class BasicAuthorizationTests: XCTestCase {
    func testParsesRFC7617Example() {
        // RFC 7617 §2: "Aladdin" / "open sesame".
        let parsed = BasicAuthorization(headerValue: "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        XCTAssertEqual(parsed, BasicAuthorization(user: "Aladdin", password: Array("open sesame".utf8)))
    }

    func testSchemeIsCaseInsensitiveAndPaddingOptional() {
        XCTAssertEqual(BasicAuthorization(headerValue: "  bAsIc   QWxhZGRpbjpvcGVuIHNlc2FtZQ  ")?.user, "Aladdin")
    }

    func testPasswordKeepsColonsAndMayBeEmpty() {
        let value = BasicAuthorization(user: "alice", password: Array("a:b:c".utf8)).headerValue
        XCTAssertEqual(BasicAuthorization(headerValue: value)?.password, Array("a:b:c".utf8))
        XCTAssertEqual(BasicAuthorization(headerValue: BasicAuthorization(user: "u", password: []).headerValue)?.password, [])
    }

    func testRoundTripsUTF8() {
        let credentials = BasicAuthorization(user: "zoë", password: Array("pässwörd".utf8))
        XCTAssertEqual(BasicAuthorization(headerValue: credentials.headerValue), credentials)
    }

    func testRefusesOtherSchemesAndMalformedValues() {
        for value in ["", "Basic", "Basic ", "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Basic !!!!", "Basic dXNlcg==" /* "user": no colon */,
                      "Basic QWxh ZGRpbjpvcGVuIHNlc2FtZQ==", "BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Basic /w==" /* not UTF-8, no colon */,
                      "Basic /zpw" /* user 0xFF: not UTF-8 */] {
            XCTAssertNil(BasicAuthorization(headerValue: value), value)
        }
        XCTAssertNil(BasicAuthorization(headerValue: "Basic " + String(repeating: "A", count: 5000)), "bounded")
    }
}
