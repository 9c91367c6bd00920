import Glibc
import TunDevice
import XCTest

final class TunErrorTests: XCTestCase {
    func testPermissionErrorsSayWhatToDo() {
        let error = TunError.needsPrivileges(call: "TUNSETIFF vshare%d", errno: EPERM)
        XCTAssertTrue(error.isPermissionProblem)
        XCTAssertTrue(error.description.contains("root or CAP_NET_ADMIN"), error.description)
        XCTAssertTrue(error.description.contains("SOCKS"), error.description)
        let missing = TunError.needsPrivileges(call: "open /dev/net/tun", errno: ENOENT)
        XCTAssertTrue(missing.description.contains("/dev/net/tun"), missing.description)
        XCTAssertTrue(missing.description.contains("SOCKS"), missing.description)
    }
}
