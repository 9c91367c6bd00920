import XCTest
@testable import Wire

final class SOCKS5ServerParserTests: XCTestCase {
    private let greeting: [UInt8] = [5, 2, 0x02, 0x00]   // offers user/pass and no-auth

    private let requests: [SOCKS5Request] = [
        SOCKS5Request(command: .connect, destination: .ipv4(IPv4Address(172, 16, 0, 2)), port: 22),
        SOCKS5Request(command: .connect, destination: .domain("myshare"), port: 443),
        SOCKS5Request(command: .udpAssociate, destination: .ipv4(IPv4Address(0)), port: 0),
        SOCKS5Request(command: .bind, destination: .ipv6(Array(1...16)), port: 65535),
        SOCKS5Request(command: .connect, destination: .domain(String(repeating: "a", count: 255)), port: 80),
    ]

    /// Feeds `chunks` one by one, collecting events and the pipelined bytes at the end.
    private func run(_ chunks: [[UInt8]]) throws(SOCKS5ParseError) -> (events: [SOCKS5ServerEvent], rest: [UInt8]) {
        var parser = SOCKS5ServerParser()
        var events: [SOCKS5ServerEvent] = []
        for chunk in chunks {
            parser.feed(chunk)
            while let e = try parser.next() { events.append(e) }
        }
        return (events, parser.takeRemainingBytes())
    }

    func testEverySplitOfEveryAddressTypeGivesTheSameEvents() throws {
        let pipelined: [UInt8] = Array("GET / HTTP/1.1\r\n\r\n".utf8)
        for request in requests {
            let wire = greeting + request.encoded() + pipelined
            let expected: [SOCKS5ServerEvent] = [.greeting(methods: [0x02, 0x00]), .request(request)]
            for cut in 0...wire.count {
                let (events, rest) = try run([Array(wire[..<cut]), Array(wire[cut...])])
                XCTAssertEqual(events, expected, "split at \(cut) for \(request)")
                XCTAssertEqual(rest, pipelined, "split at \(cut) for \(request)")
            }
            // And one byte at a time.
            let (events, rest) = try run(wire.map { [$0] })
            XCTAssertEqual(events, expected)
            XCTAssertEqual(rest, pipelined)
        }
    }

    func testTwoSplitPointsOnTheDomainRequest() throws {
        let wire = greeting + requests[1].encoded()
        for i in 0...wire.count {
            for j in i...wire.count {
                let (events, rest) = try run([Array(wire[..<i]), Array(wire[i..<j]), Array(wire[j...])])
                XCTAssertEqual(events.count, 2, "splits \(i), \(j)")
                XCTAssertEqual(rest, [])
            }
        }
    }

    func testPipelinedBytesFedAfterTheRequestAreKept() throws {
        var parser = SOCKS5ServerParser()
        parser.feed(greeting + requests[0].encoded() + [1, 2])
        XCTAssertEqual(try parser.next(), .greeting(methods: [2, 0]))
        XCTAssertEqual(parser.takeRemainingBytes(), [], "nothing is 'remaining' before the request")
        XCTAssertEqual(try parser.next(), .request(requests[0]))
        XCTAssertTrue(parser.isComplete)
        parser.feed([3])
        XCTAssertNil(try parser.next())
        XCTAssertEqual(parser.takeRemainingBytes(), [1, 2, 3])
        XCTAssertEqual(parser.takeRemainingBytes(), [])
    }

    func testIncompleteInputWaits() throws {
        XCTAssertEqual(try run([[]]).events, [])
        XCTAssertEqual(try run([[5]]).events, [])
        XCTAssertEqual(try run([[5, 3, 0, 1]]).events, [])
        XCTAssertEqual(try run([greeting + [5, 1, 0, 3, 10] + Array("short".utf8)]).events, [.greeting(methods: [2, 0])])
    }

    private func expectError(_ wire: [UInt8], _ expected: SOCKS5ParseError, response: [UInt8]?,
                             file: StaticString = #filePath, line: UInt = #line) {
        var parser = SOCKS5ServerParser()
        parser.feed(wire)
        do {
            while try parser.next() != nil {}
            XCTFail("no error for \(wire)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
            XCTAssertEqual(error.response, response, file: file, line: line)
            // The parser stays failed.
            parser.feed([0])
            XCTAssertThrowsError(try parser.next(), file: file, line: line)
        }
    }

    func testErrorsAndTheirReplies() {
        let failure: (UInt8) -> [UInt8] = { [5, $0, 0, 1, 0, 0, 0, 0, 0, 0] }
        expectError([4, 1, 0, 80, 1, 2, 3, 4, 0], .unsupportedVersion(4), response: nil)        // SOCKS4
        expectError(Array("GET / HTTP/1.1\r\n".utf8), .unsupportedVersion(0x47), response: nil)
        expectError([5, 1, 2], .noAcceptableMethod(offered: [2]), response: [5, 0xFF])
        expectError([5, 0], .noAcceptableMethod(offered: []), response: [5, 0xFF])
        expectError(greeting + [4, 1, 0, 1], .badRequestVersion(4), response: failure(1))
        expectError(greeting + [5, 9, 0, 1], .unsupportedCommand(9), response: failure(7))
        expectError(greeting + [5, 1, 0, 2, 1, 2, 3, 4, 0, 80], .unsupportedAddressType(2), response: failure(8))
        expectError(greeting + [5, 1, 0, 3, 0, 0, 80], .invalidDomain, response: failure(1))
        expectError(greeting + [5, 1, 0, 3, 2, 0xC3, 0x28, 0, 80], .invalidDomain, response: failure(1))
    }

    func testErrorsAreDetectedAsSoonAsTheBadByteArrives() {
        // No waiting for the rest of the message: the bad field decides.
        expectError([6], .unsupportedVersion(6), response: nil)
        expectError(greeting + [5, 0], .unsupportedCommand(0), response: [5, 7, 0, 1, 0, 0, 0, 0, 0, 0])
        expectError(greeting + [5, 1, 0, 0xFF], .unsupportedAddressType(0xFF), response: [5, 8, 0, 1, 0, 0, 0, 0, 0, 0])
    }

    func testHandshakeIsBoundedByItsFormat() throws {
        // The largest greeting and request parse; more bytes are pipelined data, not handshake.
        let big = [5, 255] + [UInt8](repeating: 0, count: 255)
        let request = requests[4].encoded()
        XCTAssertEqual(big.count + request.count, SOCKS5ServerParser.maxHandshakeBytes)
        let (events, rest) = try run([big + request + [UInt8](repeating: 7, count: 1000)])
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(rest.count, 1000)
    }
}
