import Foundation
import XCTest
@testable import Wire

final class SSHKeyBlobTests: XCTestCase {
    func testRecordRoundTrip() {
        let record = SSHKeyRecord(privateKey: Array("key bytes".utf8), hostKeys: ["ssh-ed25519 AAAA", "ssh-rsa BBBB"],
                                  user: "vagrant", port: 2222)
        XCTAssertEqual(SSHKeyRecord.decode(record.encoded()), record)
    }

    func testRecordRejectsTruncationAndJunk() {
        let bytes = SSHKeyRecord(privateKey: [1, 2, 3], hostKeys: ["k"], user: "u", port: 22).encoded()
        for cut in 0..<bytes.count { XCTAssertNil(SSHKeyRecord.decode(Array(bytes[0..<cut])), "cut at \(cut)") }
        XCTAssertNil(SSHKeyRecord.decode(bytes + [0]))
        XCTAssertNil(SSHKeyRecord.decode(Array("not a record".utf8)))
    }

    func testConstantTimeEqual() {
        XCTAssertTrue(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEqual([1, 2, 3], [1, 2]))
        XCTAssertTrue(constantTimeEqual([], []))
    }

    func testControlMessageCarriesTheBlob() {
        let salt = Data(repeating: 3, count: 16).base64EncodedString()
        let blob = SSHKeyBlob(kdf: SSHKDFParams(logN: 16, r: 8, p: 1, salt: salt),
                              verifier: Data(repeating: 4, count: 32).base64EncodedString(),
                              sealed: SSHSealedKey(nonce: Data(repeating: 5, count: 12).base64EncodedString(), ciphertext: "AAAA"),
                              once: true)
        XCTAssertTrue(blob.isWellFormed)
        let message = ControlMessage.createShare(CreateShare(token: "t", httpEnabled: true, httpsEnabled: false, ssh: blob))
        guard case .createShare(let decoded)? = try? ControlMessage.decode(message.encoded()) else {
            return XCTFail("createShare did not round-trip")
        }
        XCTAssertEqual(decoded.ssh, blob)
        var bad = blob
        bad.verifier = "AAAA"
        XCTAssertFalse(bad.isWellFormed)
    }
}
