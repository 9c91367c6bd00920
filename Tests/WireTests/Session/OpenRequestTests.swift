import XCTest
@testable import Wire

final class OpenRequestTests: XCTestCase {
    func testRoundTripsAndLeavesAbsentFieldsOut() {
        let request = OpenRequest(service: .tcp, port: 5432, client: "10.0.0.9", confirm: true)
        XCTAssertEqual(OpenRequest.decode(request.encoded()), request)
        XCTAssertEqual(OpenRequest.decode(OpenRequest(service: .ssh).encoded()), OpenRequest(service: .ssh))
        XCTAssertEqual(String(decoding: OpenRequest(service: .http).encoded(), as: UTF8.self), #"{"service":"http"}"#)
    }

    func testUnknownServicesAndNonJSONAreNotRequests() {
        XCTAssertNil(OpenRequest.decode(Array(#"{"service":"ftp","port":21}"#.utf8)))
        XCTAssertNil(OpenRequest.decode([]))
    }
}
