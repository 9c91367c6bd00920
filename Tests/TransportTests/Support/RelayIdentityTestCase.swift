import Foundation
import Identity
import XCTest

/// A test case that needs the relay's CA and server certificate: each test gets its own, made in a
/// fresh temporary directory that is removed afterwards.
class RelayIdentityTestCase: XCTestCase {
    private(set) var directory: String!

    override func setUp() {
        super.setUp()
        directory = NSTemporaryDirectory() + "vshare-identity-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
        super.tearDown()
    }

    /// The CA and server certificate in this test's directory (created on first use).
    func relayIdentity() throws -> RelayIdentity {
        try CertificateAuthority.loadOrCreate(dataDir: directory, hostnames: [])
    }
}
