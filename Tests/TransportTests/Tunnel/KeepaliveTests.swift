import XCTest
import Transport

/// The keepalive's rule: ping every interval, close once the peer has been silent for the timeout,
/// and look again exactly when the silence would reach it (so a frozen peer is noticed in ~15 s,
/// not up to a whole interval later).
final class KeepaliveTests: XCTestCase {
    private let keepalive = TunnelConnection.Keepalive()

    func testDefaultsNoticeAFrozenPeerWithinFifteenSeconds() {
        XCTAssertEqual(keepalive.interval, 5)
        XCTAssertEqual(keepalive.timeout, 15)
    }

    func testAPeerHeardFromRecentlyIsPingedAtTheInterval() {
        XCTAssertEqual(keepalive.step(silentFor: 0.2), .ping(checkAgainIn: 5))
        XCTAssertEqual(keepalive.step(silentFor: 9.9), .ping(checkAgainIn: 5))
    }

    func testTheLastLookIsWhenTheSilenceReachesTheTimeout() {
        XCTAssertEqual(keepalive.step(silentFor: 12), .ping(checkAgainIn: 3))
        XCTAssertEqual(keepalive.step(silentFor: 15), .close)
        XCTAssertEqual(keepalive.step(silentFor: 40), .close, "a loop that was stopped itself closes at once")
    }

    /// Following the rule from a peer's last frame, the connection closes at the timeout exactly.
    func testASilentPeerIsClosedAtTheTimeout() {
        var now = 0.0
        var steps = 0
        while case .ping(let next) = keepalive.step(silentFor: now) {
            now += next
            steps += 1
        }
        XCTAssertEqual(now, 15, accuracy: 1e-9)
        XCTAssertEqual(steps, 3)
    }
}
