import SSHKeys
import XCTest

final class OpenSSHKeyFormatTests: XCTestCase {
    /// sshd reads `expiry-time` as YYYYMMDDHHMMSS; the `Z` makes it UTC whatever the machine's zone.
    func testRestrictedKeyOptionsCarryTheExpiryInUTC() {
        XCTAssertEqual(OpenSSHKeyFormat.restrictedKeyOptions(expiry: 1_900_000_000),
                       "no-agent-forwarding,no-X11-forwarding,expiry-time=\"20300317174640Z\"")
        XCTAssertEqual(OpenSSHKeyFormat.restrictedKeyOptions(expiry: 0),
                       "no-agent-forwarding,no-X11-forwarding,expiry-time=\"19700101000000Z\"")
    }
}
