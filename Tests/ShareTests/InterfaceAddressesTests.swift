import XCTest
@testable import Share

final class InterfaceAddressesTests: XCTestCase {
    /// Whatever the test host's interfaces, each address it lists is "this host" for the scope.
    func testEveryListedAddressIsThisHost() throws {
        let addresses = try XCTUnwrap(InterfaceAddresses.ofThisHost())
        for address in addresses {
            XCTAssertNotNil(IPAddressBytes(numeric: address), address)
            XCTAssertTrue(ConnectScope.targetIsThisHost(address), address)
        }
        XCTAssertTrue(ConnectScope.targetIsThisHost("127.0.0.1"))
        if !addresses.contains("192.0.2.77") {   // TEST-NET-1: on no real interface
            XCTAssertFalse(ConnectScope.targetIsThisHost("192.0.2.77"))
        }
    }
}
