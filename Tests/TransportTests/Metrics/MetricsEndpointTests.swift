import Foundation
import XCTest
import Transport
import TransportTesting
import Wire
@testable import Transport

final class MetricsEndpointTests: XCTestCase {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    func testAnswers() {
        let ok = text(MetricsEndpoint.answer(method: "GET", target: "/metrics?x", render: { "m 1\n" }))
        XCTAssertTrue(ok.hasPrefix("HTTP/1.1 200 OK\r\n"), ok)
        XCTAssertTrue(ok.contains("Content-Type: \(PrometheusText.contentType)\r\n"))
        XCTAssertTrue(ok.hasSuffix("Content-Length: 4\r\nConnection: close\r\n\r\nm 1\n"), ok)
        XCTAssertTrue(text(MetricsEndpoint.answer(method: "HEAD", target: "/metrics", render: { "m 1\n" })).hasSuffix("\r\n\r\n"))
        XCTAssertTrue(text(MetricsEndpoint.answer(method: "POST", target: "/metrics", render: { "" })).hasPrefix("HTTP/1.1 405"))
        XCTAssertTrue(text(MetricsEndpoint.answer(method: "GET", target: "/", render: { "" })).hasPrefix("HTTP/1.1 404"))
    }

    /// A real scrape over loopback, and a malformed request answered 400 without stopping the next scrape.
    func testScrapesOverLoopback() throws {
        let loop = try EventLoop(name: "metrics-test")
        loop.startThread()
        defer { loop.stop() }
        let address = try SocketAddress(parsing: "127.0.0.1:0")
        let endpoint = try loop.sync { () -> Result<MetricsEndpoint, SystemError> in
            Result { () throws(SystemError) in try MetricsEndpoint(address: address, loop: loop) { "vshare_up 1\n" } }
        }.get()
        let port = endpoint.address.port

        func exchange(_ request: String) throws -> String {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            XCTAssertEqual(rc, 0)
            _ = request.withCString { send(fd, $0, strlen($0), 0) }
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count <= 0 { break }
                received += buffer[0..<count]
            }
            return String(decoding: received, as: UTF8.self)
        }

        XCTAssertTrue(try exchange("BAD\r\n\r\n").hasPrefix("HTTP/1.1 400"))
        let answer = try exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK"), answer)
        XCTAssertTrue(answer.hasSuffix("\r\n\r\nvshare_up 1\n"), answer)
        loop.sync { endpoint.stop() }
    }
}
