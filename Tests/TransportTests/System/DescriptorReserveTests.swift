import Glibc
import XCTest
import Transport

final class DescriptorReserveTests: XCTestCase {
    /// Released descriptors are free again: the next opens get (at least) as many back.
    func testReleaseFreesTheHeldDescriptors() {
        let reserve = DescriptorReserve(count: 4)
        XCTAssertEqual(reserve.count, 4)
        let probe = open("/dev/null", O_RDONLY | O_CLOEXEC)
        close(probe)
        reserve.release()
        XCTAssertEqual(reserve.count, 0)
        let after = open("/dev/null", O_RDONLY | O_CLOEXEC)
        XCTAssertLessThan(after, probe, "a lower descriptor number came free")
        close(after)
    }
}
