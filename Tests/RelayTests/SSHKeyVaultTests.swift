import Foundation
import XCTest
@testable import Relay

final class SSHKeyVaultTests: XCTestCase {
    func testProofComparison() {
        let verifier = Data(repeating: 7, count: 32).base64EncodedString()
        XCTAssertTrue(SSHKeyVault.matches(proof: [UInt8](repeating: 7, count: 32), verifier: verifier))
        XCTAssertFalse(SSHKeyVault.matches(proof: [UInt8](repeating: 7, count: 31) + [8], verifier: verifier))
        XCTAssertFalse(SSHKeyVault.matches(proof: [], verifier: verifier))
        XCTAssertFalse(SSHKeyVault.matches(proof: [1], verifier: "not base64!"))
    }

    func testWrongProofsThrottledPerAddressAndPerShare() {
        let limiter = SSHKeyVault.ProofLimiter()
        var verdicts: [GuessLimiter.Verdict] = []
        for _ in 0..<11 { verdicts.append(limiter.recordWrong(client: "10.0.0.1", share: "a-b-0001")) }
        XCTAssertEqual(Array(verdicts.prefix(3)), [.allow, .allow, .allow])
        if case .delay = verdicts[3] {} else { XCTFail("the 4th wrong proof should be slowed: \(verdicts)") }
        XCTAssertEqual(verdicts.last, .refuse)
        XCTAssertTrue(limiter.isRefused(client: "10.0.0.1", share: "other-share-0002"))
        // Many addresses against one share: the share is refused after 30.
        let shareLimiter = SSHKeyVault.ProofLimiter()
        for i in 0..<31 { _ = shareLimiter.recordWrong(client: "10.0.1.\(i)", share: "a-b-0001") }
        XCTAssertTrue(shareLimiter.isRefused(client: "10.9.9.9", share: "a-b-0001"))
        XCTAssertFalse(shareLimiter.isRefused(client: "10.9.9.9", share: "c-d-0003"))
    }
}
