import Glibc
import Identity
import XCTest
@testable import Relay
import Transport
import TransportTesting
import Wire

/// The agent's side of the tunnel as the proxy sees it (streams from 2 up, as the relay's side
/// numbers them), in the tests' words: the machine answers on the last stream opened, and what
/// the proxy sent, reset, or gave back as credit is summed over the streams it opened.
private extension FakeTunnel {
    func respond(_ text: String) { opened.last?.deliver(Array(text.utf8)) }
    func refuse() { opened.last?.deliverReset(.refused, reason: "connection refused") }
    var sent: [UInt8] { opened.flatMap(\.sent) }
    var sentText: String { String(decoding: sent, as: UTF8.self) }
    var resets: [ResetCode] { opened.flatMap(\.resets) }
    var consumedCount: Int { opened.reduce(0) { $0 + $1.consumed } }
}

/// One share, "demo", on the test's loop.
private final class FakeRouter: HTTPProxyRouter {
    let limiter = GuessLimiter(limits: .init())
    let httpTimeouts = HTTPProxyTimeouts()
    var passwordChecker = PasswordChecker()
    let loop: EventLoop
    let tunnel: FakeTunnel
    var access: ShareAccess?
    init(loop: EventLoop, tunnel: FakeTunnel) { self.loop = loop; self.tunnel = tunnel }

    func httpShare(host: String?) -> HTTPProxyShare? {
        guard shareName(fromHost: host) != nil else { return nil }
        return HTTPProxyShare(name: "demo", loop: loop, access: access) { [tunnel] in tunnel }
    }
    func shareName(fromHost host: String?) -> String? { host?.hasPrefix("demo.") == true ? "demo" : nil }
}

final class HTTPProxyConnectionTests: XCTestCase {
    private var loop: EventLoop!
    private var tunnel: FakeTunnel!
    private var router: FakeRouter!
    private var browser: Int32 = -1

    override func setUpWithError() throws {
        loop = try EventLoop(name: "proxy-test")
        loop.startThread()
        tunnel = FakeTunnel(loop: loop, firstStreamID: 2)
        router = FakeRouter(loop: loop, tunnel: tunnel)
    }

    override func tearDown() {
        if browser >= 0 { close(browser) }
        loop.stop()
    }

    /// A browser connection (a socket pair: the test holds the browser's end, blocking, with a
    /// receive timeout) accepted by the proxy.
    private func connectBrowser(timeouts: HTTPProxyTimeouts = .init(), from peer: String? = nil) throws {
        if browser >= 0 { close(browser) }
        let (socket, browser) = try testSocketPair()
        self.browser = browser
        let router = self.router!, loop = self.loop!
        let address = try peer.map { try SocketAddress(host: $0, port: 40000) }
        onLoop { HTTPProxyConnection.accept(socket: socket, peer: address, relay: router, loop: loop, timeouts: timeouts) }
    }

    private func onLoop(_ body: @escaping () -> Void) { loop.sync(body) }

    private func eventually(_ what: String, _ condition: @escaping () -> Bool) {
        XCTAssertTrue(loop.waitUntil(timeout: 3, condition), "timed out waiting for \(what)")
    }

    private func browserSends(_ text: String) {
        let bytes = Array(text.utf8)
        XCTAssertEqual(bytes.withUnsafeBytes { send(browser, $0.baseAddress, $0.count, 0) }, bytes.count)
    }

    /// Reads until `count` bytes arrived, or EOF / the receive timeout.
    private func browserReceives(atLeast count: Int) -> String {
        var got: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while got.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(browser, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            got += buffer[0..<n]
        }
        return String(decoding: got, as: UTF8.self)
    }

    /// Reads until the proxy closes the connection.
    private func browserReceivesUntilClose() -> String { browserReceives(atLeast: .max) }

    private func occurrences(of needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    func testKeepAliveServesTwoRequestsOnOneStream() throws {
        try connectBrowser()
        browserSends("GET /one HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        eventually("the first head") { self.tunnel.sentText.contains("GET /one HTTP/1.1") }
        onLoop {
            XCTAssertTrue(self.tunnel.sentText.contains("X-Forwarded-For:"), self.tunnel.sentText)
            self.tunnel.respond("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none")
        }
        let first = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
        XCTAssertEqual(browserReceives(atLeast: first.utf8.count), first)

        browserSends("GET /two HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        eventually("the second head") { self.tunnel.sentText.contains("GET /two HTTP/1.1") }
        let second = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo"
        onLoop { self.tunnel.respond(second) }
        XCTAssertEqual(browserReceives(atLeast: second.utf8.count), second)
        onLoop {
            XCTAssertEqual(self.tunnel.opened.count, 1, "one stream per browser connection")
            XCTAssertEqual(self.tunnel.resets, [])
            XCTAssertEqual(self.tunnel.consumedCount, first.utf8.count + second.utf8.count,
                           "credit returned for exactly what the browser took")
        }
    }

    func testPipelinedRequestsAreForwardedInOrderAndAnswered() throws {
        try connectBrowser()
        browserSends("GET /a HTTP/1.1\r\nHost: demo.example.net\r\n\r\n"
                     + "POST /b HTTP/1.1\r\nHost: demo.example.net\r\nContent-Length: 4\r\n\r\nbody"
                     + "GET /c HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        eventually("three heads") { self.tunnel.sentText.contains("GET /c HTTP/1.1") }
        onLoop {
            let text = self.tunnel.sentText
            let starts = ["GET /a ", "POST /b ", "GET /c "].compactMap { text.range(of: $0)?.lowerBound }
            XCTAssertEqual(starts.count, 3, text)
            XCTAssertEqual(starts, starts.sorted(), "heads in the order the browser sent them: \(text)")
            XCTAssertTrue(text.contains("\r\n\r\nbodyGET /c"), "the body passes through between the heads: \(text)")
        }
        let answers = (1...3).map { "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n\($0)" }.joined()
        onLoop { self.tunnel.respond(answers) }
        XCTAssertEqual(browserReceives(atLeast: answers.utf8.count), answers)
    }

    func testBodyReadAfterItsHeadGoesThroughAndTheNextRequestIsParsed() throws {
        try connectBrowser()
        browserSends("POST /up HTTP/1.1\r\nHost: demo.example.net\r\nContent-Length: 8\r\n\r\n")
        eventually("the head") { self.tunnel.sentText.contains("POST /up HTTP/1.1") }
        browserSends("12345678GET /after HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        eventually("the next head") { self.tunnel.sentText.contains("GET /after HTTP/1.1") }
        onLoop { XCTAssertTrue(self.tunnel.sentText.contains("\r\n\r\n12345678GET /after"), self.tunnel.sentText) }
    }

    /// A browser that does not read: the relay keeps what the socket would not take, returns no
    /// credit for it, and delivers it (and the credit) once the browser reads.
    func testSlowBrowserGetsCreditReturnedOnlyForWhatItTook() throws {
        try connectBrowser()
        browserSends("GET /big HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        eventually("the head") { self.tunnel.sentText.contains("GET /big") }
        let size = 4 << 20
        let head = "HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\n\r\n"
        onLoop {
            self.tunnel.respond(head)
            let chunk = [UInt8](repeating: 0x61, count: 32 << 10)
            for _ in 0..<(size / chunk.count) {
                self.tunnel[2].deliver(chunk)
            }
        }
        onLoop {
            XCTAssertLessThan(self.tunnel.consumedCount, size / 2, "the socket buffer cannot hold it all")
            XCTAssertTrue(self.tunnel.resets.isEmpty)
        }
        let got = browserReceives(atLeast: head.utf8.count + size)
        XCTAssertEqual(got.utf8.count, head.utf8.count + size)
        eventually("all credit back") { self.tunnel.consumedCount == head.utf8.count + size }
    }

    func testRefusedStreamAnswers502AndCloses() throws {
        try connectBrowser()
        browserSends("GET / HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        eventually("the stream") { !self.tunnel.opened.isEmpty && !self.tunnel.sent.isEmpty }
        onLoop { self.tunnel.refuse() }
        let answer = browserReceivesUntilClose()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 502 "), answer)
        XCTAssertTrue(answer.contains("did not accept the connection"), answer)
    }

    func testShareThatCannotOpenAStreamAnswers503() throws {
        onLoop { self.tunnel.canOpen = false }
        try connectBrowser()
        browserSends("GET / HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        let answer = browserReceivesUntilClose()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 503 "), answer)
        XCTAssertTrue(answer.contains("busy"), answer)
    }

    func testSlowHeadGets408() throws {
        try connectBrowser(timeouts: .init(head: 0.2, idle: 30))
        let start = MonotonicClock.now()
        browserSends("GET / HTTP/1.1\r\nHo")
        let answer = browserReceivesUntilClose()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 408 "), answer)
        XCTAssertLessThan(MonotonicClock.now() - start, 3)
        onLoop { XCTAssertTrue(self.tunnel.opened.isEmpty, "no stream for a head that never arrived") }
    }

    func testUnknownHostGets404WithoutAStream() throws {
        try connectBrowser()
        browserSends("GET / HTTP/1.1\r\nHost: nobody.example.net\r\n\r\n")
        let answer = browserReceivesUntilClose()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 404 "), answer)
        onLoop { XCTAssertTrue(self.tunnel.opened.isEmpty) }
    }

    // MARK: Upgrades

    private let upgradeHead = "GET /ws HTTP/1.1\r\nHost: demo.example.net\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"

    /// Nothing rides behind `Connection: Upgrade` before the machine agreed: what follows the
    /// request is held, then goes through raw once the machine answered 101.
    func testUpgradeHoldsWhatFollowsUntilTheMachineSwitches() throws {
        try connectBrowser()
        browserSends(upgradeHead + "GET /smuggled HTTP/1.1\r\n\r\n")
        eventually("the upgrade head") { self.tunnel.sentText.contains("GET /ws HTTP/1.1") }
        Thread.sleep(forTimeInterval: 0.05)
        onLoop { XCTAssertFalse(self.tunnel.sentText.contains("smuggled"), "held until the machine answers: \(self.tunnel.sentText)") }
        let switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        onLoop { self.tunnel.respond(switching) }
        XCTAssertEqual(browserReceives(atLeast: switching.utf8.count), switching)
        eventually("the held bytes, raw") { self.tunnel.sentText.hasSuffix("\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n") }
        browserSends("\u{1}raw")
        eventually("raw bytes pass") { self.tunnel.sentText.hasSuffix("\u{1}raw") }
    }

    /// The machine said no: the held bytes are a request like any other — parsed, checked and
    /// re-serialized (the client's X-Forwarded-For replaced), not passed on as they came.
    func testRefusedUpgradeParsesTheHeldBytesAsTheNextRequest() throws {
        try connectBrowser(from: "10.9.8.7")
        browserSends(upgradeHead + "GET /next HTTP/1.1\r\nHost: demo.example.net\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n")
        eventually("the upgrade head") { self.tunnel.sentText.contains("GET /ws HTTP/1.1") }
        let refusal = "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 2\r\n\r\nno"
        onLoop { self.tunnel.respond(refusal) }
        XCTAssertEqual(browserReceives(atLeast: refusal.utf8.count), refusal)
        eventually("the next request") { self.tunnel.sentText.contains("GET /next HTTP/1.1\r\n") }
        onLoop {
            let text = self.tunnel.sentText
            XCTAssertFalse(text.contains("6.6.6.6"), text)
            XCTAssertEqual(self.occurrences(of: "X-Forwarded-For: 10.9.8.7\r\n", in: text), 2, text)
        }
    }

    // MARK: Deadlines

    func testResponseThatNeverStartsGets504() throws {
        try connectBrowser(timeouts: .init(responseStart: 0.2))
        browserSends("GET /slow HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        let answer = browserReceivesUntilClose()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 504 "), answer)
        onLoop { XCTAssertEqual(self.tunnel.resets, [.cancelled], "the stream is freed") }
    }

    /// A head promising a gigabyte, then silence: answered and freed after the body limit, not held.
    func testSilentRequestBodyGets408AndFreesTheStream() throws {
        try connectBrowser(timeouts: .init(requestBody: 0.3, responseStart: 30))
        let start = MonotonicClock.now()
        browserSends("POST /up HTTP/1.1\r\nHost: demo.example.net\r\nContent-Length: 1000000000\r\n\r\nfirst bytes")
        let answer = browserReceivesUntilClose()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 408 "), answer)
        XCTAssertTrue(answer.contains("body stopped arriving"), answer)
        XCTAssertLessThan(MonotonicClock.now() - start, 3)
        onLoop { XCTAssertEqual(self.tunnel.resets, [.cancelled]) }
    }

    func testBodyBytesThatKeepComingKeepTheRequest() throws {
        try connectBrowser(timeouts: .init(requestBody: 0.3, responseStart: 30))
        browserSends("POST /up HTTP/1.1\r\nHost: demo.example.net\r\nContent-Length: 10\r\n\r\n")
        for _ in 0..<5 {
            Thread.sleep(forTimeInterval: 0.15)
            browserSends("12")
        }
        eventually("the whole body") { self.tunnel.sentText.hasSuffix("1212121212") }
        onLoop { XCTAssertEqual(self.tunnel.resets, [], "a slow body that keeps coming is not cut") }
    }

    func testIdleUpgradedConnectionIsClosed() throws {
        try connectBrowser(timeouts: .init(upgradedIdle: 0.3))
        browserSends(upgradeHead)
        eventually("the upgrade head") { self.tunnel.sentText.contains("GET /ws HTTP/1.1") }
        onLoop { self.tunnel.respond("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n") }
        let start = MonotonicClock.now()
        XCTAssertTrue(browserReceivesUntilClose().hasPrefix("HTTP/1.1 101 "))
        XCTAssertLessThan(MonotonicClock.now() - start, 3)
        onLoop { XCTAssertEqual(self.tunnel.resets, [.cancelled]) }
    }

    func testMachineClosingWithoutAnAnswerGets502() throws {
        try connectBrowser()
        browserSends("GET / HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        eventually("the head") { self.tunnel.sentText.contains("GET / HTTP/1.1") }
        onLoop { self.tunnel.opened.last?.deliverFin() }
        let answer = browserReceivesUntilClose()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 502 "), answer)
        XCTAssertTrue(answer.contains("without answering"), answer)
    }

    // MARK: Access rules

    func testBasicAuthChallengesThenForwardsWithoutTheHeader() throws {
        router.access = ShareAccess(shareName: "demo", networks: [],
                                    basicAuth: try BasicAuthHash.make(user: "alice", password: Array("pw".utf8)))
        try connectBrowser()
        browserSends("GET / HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        let challenge = browserReceivesUntilClose()
        XCTAssertTrue(challenge.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"), challenge)
        XCTAssertTrue(challenge.contains("WWW-Authenticate: Basic realm=\"vshare demo\"\r\n"), challenge)

        try connectBrowser()
        let credentials = BasicAuthorization(user: "alice", password: Array("pw".utf8)).headerValue
        browserSends("GET /in HTTP/1.1\r\nHost: demo.example.net\r\nAuthorization: \(credentials)\r\n\r\n")
        eventually("the admitted head") { self.tunnel.sentText.contains("GET /in HTTP/1.1") }
        onLoop {
            XCTAssertEqual(self.tunnel.opened.count, 1, "no stream for the refused request")
            XCTAssertFalse(self.tunnel.sentText.lowercased().contains("authorization"), self.tunnel.sentText)
        }
    }

    /// With the password thread's queue full, a new password is answered 503 at once, no stream.
    func testAPasswordCheckThatCannotBeQueuedIs503() throws {
        router.access = ShareAccess(shareName: "demo", networks: [],
                                    basicAuth: try BasicAuthHash.make(user: "alice", password: Array("pw".utf8)))
        router.passwordChecker = PasswordChecker(capacity: 0)
        try connectBrowser()
        let credentials = BasicAuthorization(user: "alice", password: Array("pw".utf8)).headerValue
        browserSends("GET / HTTP/1.1\r\nHost: demo.example.net\r\nAuthorization: \(credentials)\r\n\r\n")
        let answer = browserReceivesUntilClose()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 503 "), answer)
        XCTAssertTrue(answer.contains("busy checking passwords"), answer)
        onLoop { XCTAssertEqual(self.tunnel.opened.count, 0) }
    }

    /// A request whose password is being checked waits, with what the browser sent after it; once
    /// it passes, the request and the next one on the connection go on in order.
    func testRequestsAfterAPasswordCheckGoOnInOrder() throws {
        router.access = ShareAccess(shareName: "demo", networks: [],
                                    basicAuth: try BasicAuthHash.make(user: "alice", password: Array("pw".utf8)))
        try connectBrowser()
        let credentials = BasicAuthorization(user: "alice", password: Array("pw".utf8)).headerValue
        browserSends("POST /one HTTP/1.1\r\nHost: demo.example.net\r\nAuthorization: \(credentials)\r\nContent-Length: 4\r\n\r\nbody"
                     + "GET /two HTTP/1.1\r\nHost: demo.example.net\r\nAuthorization: \(credentials)\r\n\r\n")
        eventually("both heads, in order") {
            let sent = self.tunnel.sentText
            guard let one = sent.range(of: "POST /one HTTP/1.1"), let body = sent.range(of: "\r\n\r\nbody"),
                  let two = sent.range(of: "GET /two HTTP/1.1") else { return false }
            return one.lowerBound < body.lowerBound && body.lowerBound < two.lowerBound
        }
        onLoop { XCTAssertEqual(self.tunnel.opened.count, 1) }
    }

    func testEveryRequestOnAConnectionIsChecked() throws {
        router.access = ShareAccess(shareName: "demo", networks: [],
                                    basicAuth: try BasicAuthHash.make(user: "alice", password: Array("pw".utf8)))
        try connectBrowser()
        let credentials = BasicAuthorization(user: "alice", password: Array("pw".utf8)).headerValue
        browserSends("GET /one HTTP/1.1\r\nHost: demo.example.net\r\nAuthorization: \(credentials)\r\n\r\n")
        eventually("the first head") { self.tunnel.sentText.contains("GET /one HTTP/1.1") }
        let first = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
        onLoop { self.tunnel.respond(first) }
        XCTAssertEqual(browserReceives(atLeast: first.utf8.count), first)
        browserSends("GET /two HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        XCTAssertTrue(browserReceivesUntilClose().hasPrefix("HTTP/1.1 401 "), "a later request without credentials is refused too")
        onLoop { XCTAssertFalse(self.tunnel.sentText.contains("GET /two")) }
    }

    func testAllowListRefusesOtherPeersBeforeAnyStream() throws {
        router.access = ShareAccess(shareName: "demo", networks: try IPNetwork.parseList("10.0.0.0/8"), basicAuth: nil)
        try connectBrowser(from: "192.0.2.1")
        browserSends("GET / HTTP/1.1\r\nHost: demo.example.net\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n")
        let answer = browserReceivesUntilClose()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), answer)
        onLoop { XCTAssertEqual(self.tunnel.opened.count, 0) }

        try connectBrowser(from: "10.9.8.7")
        browserSends("GET /ok HTTP/1.1\r\nHost: demo.example.net\r\n\r\n")
        eventually("the allowed head") { self.tunnel.sentText.contains("GET /ok HTTP/1.1") }
    }
}
