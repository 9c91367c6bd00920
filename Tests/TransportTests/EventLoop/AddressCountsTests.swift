import XCTest
import Transport

final class AddressCountsTests: XCTestCase {
    func testAdmitsUpToTheLimitPerAddress() {
        var counts = AddressCounts(limit: 3)
        XCTAssertEqual((0..<5).map { _ in counts.admit("10.0.0.1") }, [true, true, true, false, false])
        XCTAssertTrue(counts.admit("10.0.0.2"), "another address has its own allowance")
        XCTAssertEqual(counts.count(of: "10.0.0.1"), 3)
    }

    func testAReleaseMakesRoomAndEmptyAddressesAreForgotten() {
        var counts = AddressCounts(limit: 1)
        XCTAssertTrue(counts.admit("a"))
        XCTAssertFalse(counts.admit("a"))
        counts.release("a")
        XCTAssertEqual(counts.addresses, 0)
        XCTAssertTrue(counts.admit("a"))
        counts.release("never-seen")
        XCTAssertEqual(counts.count(of: "a"), 1)
    }
}
