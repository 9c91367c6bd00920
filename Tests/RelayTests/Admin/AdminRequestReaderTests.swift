import XCTest
import Wire
@testable import Relay

final class AdminRequestReaderTests: XCTestCase {
    private func feed(_ reader: inout AdminRequestReader, _ text: String) -> AdminRequestReader.Outcome {
        Array(text.utf8).withUnsafeBytes { reader.feed($0) }
    }

    func testRequestWithFormBodyInPieces() {
        var reader = AdminRequestReader()
        XCTAssertEqual(feed(&reader, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n"), .needMore)
        XCTAssertEqual(feed(&reader, "\r\ntoken"), .needMore)
        guard case .request(let head, let body) = feed(&reader, "=abc") else { return XCTFail("no request") }
        XCTAssertEqual(head.method, "POST")
        XCTAssertEqual(head.target, "/login")
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "token=abc")
    }

    func testOversizedChunkedAndMalformedRequestsAreRefused() {
        var big = AdminRequestReader()
        XCTAssertEqual(feed(&big, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n" + String(repeating: "a", count: 20000)), .refuse(413))
        var chunked = AdminRequestReader()
        XCTAssertEqual(feed(&chunked, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), .refuse(400))
        var upgrade = AdminRequestReader()
        XCTAssertEqual(feed(&upgrade, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"), .refuse(400))
        var garbage = AdminRequestReader()
        XCTAssertEqual(feed(&garbage, "NOT HTTP\r\n\r\n"), .refuse(400))
    }
}
