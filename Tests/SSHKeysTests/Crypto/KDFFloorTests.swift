import Foundation
import SSHKeys
import Wire
import XCTest

final class KDFFloorTests: XCTestCase {
    private let salt = Data(repeating: 7, count: 16).base64EncodedString()

    func testWhatShareAgentsSealWithIsAccepted() {
        XCTAssertNil(KDFFloor.refusal(SSHKDFParams(logN: PasswordSealing.defaultLogN, r: PasswordSealing.defaultR,
                                                   p: PasswordSealing.defaultP, salt: salt)))
        XCTAssertNil(KDFFloor.refusal(SSHKDFParams(logN: 15, r: 8, p: 1, salt: salt)), "the floor itself")
    }

    /// Whatever the relay sends, below N = 2^15 or r = 8 the client refuses and says why.
    func testWeakerParametersFromARelayAreRefused() throws {
        for (logN, r) in [(UInt8(14), UInt32(8)), (15, 7), (10, 1), (0, 8)] {
            let why = try XCTUnwrap(KDFFloor.refusal(SSHKDFParams(logN: logN, r: r, p: 1, salt: salt)), "N=2^\(logN) r=\(r)")
            XCTAssertTrue(why.contains("N = 2^\(logN), r = \(r)"), why)
            XCTAssertTrue(why.contains("at least scrypt N = 2^15, r = 8"), why)
        }
        XCTAssertNotNil(KDFFloor.refusal(SSHKDFParams(kdf: "pbkdf2", logN: 16, r: 8, p: 1, salt: salt)))
    }

    func testTheCeilingAndTheSaltStillApply() {
        XCTAssertNotNil(KDFFloor.refusal(SSHKDFParams(logN: 30, r: 8, p: 1, salt: salt)))
        XCTAssertNotNil(KDFFloor.refusal(SSHKDFParams(logN: 16, r: 8, p: 1, salt: "c2hvcnQ=")))
    }
}
