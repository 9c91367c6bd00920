@testable import Store
import XCTest

final class ResumeSecretDigestTests: XCTestCase {
    func testIsTheSecretsSHA256InHex() {
        XCTAssertEqual(ResumeSecretDigest.of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertNotEqual(ResumeSecretDigest.of("abd"), ResumeSecretDigest.of("abc"))
    }
}
