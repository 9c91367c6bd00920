import Identity
@testable import Relay
import Wire
import XCTest

final class ShareAccessTests: XCTestCase {
    private func networks(_ list: String) throws -> [IPNetwork] { try IPNetwork.parseList(list) }
    private func header(_ user: String, _ password: String) -> String {
        BasicAuthorization(user: user, password: Array(password.utf8)).headerValue
    }

    func testAllowListChecksThePeerAddress() throws {
        let access = ShareAccess(shareName: "demo", networks: try networks("10.0.0.0/8,2001:db8::/32"), basicAuth: nil)
        XCTAssertTrue(access.allows(clientIP: "10.1.2.3"))
        XCTAssertTrue(access.allows(clientIP: "::ffff:10.1.2.3"), "a dual-stack listener's mapped IPv4 peer")
        XCTAssertTrue(access.allows(clientIP: "2001:db8::5"))
        XCTAssertFalse(access.allows(clientIP: "192.0.2.1"))
        XCTAssertFalse(access.allows(clientIP: "unknown"), "an address that does not parse is not on the list")
        XCTAssertTrue(ShareAccess(shareName: "demo", networks: try networks("fe80::/10"), basicAuth: nil).allows(clientIP: "fe80::1%eth0"))
        XCTAssertTrue(ShareAccess(shareName: "demo", networks: [], basicAuth: nil).allows(clientIP: "unknown"), "no list: everyone")
    }

    func testCredentialsAreCheckedThenCached() throws {
        let access = ShareAccess(shareName: "demo", networks: [],
                                 basicAuth: try BasicAuthHash.make(user: "alice", password: Array("pw:1".utf8)))
        XCTAssertEqual(access.challenge, #"Basic realm="vshare demo""#)
        XCTAssertEqual(access.admit(clientIP: "10.0.0.1", authorization: nil, limiter: GuessLimiter(limits: .init())),
                       .refuse(status: 401, reason: "basic-auth:missing", delay: 0))
        XCTAssertFalse(access.verify("Bearer x"))
        XCTAssertFalse(access.verify(header("alice", "pw")))
        XCTAssertFalse(access.isVerified(header("alice", "pw:1")))
        XCTAssertTrue(access.verify(header("alice", "pw:1")))
        XCTAssertTrue(access.isVerified(header("alice", "pw:1")), "a match is cached")
        XCTAssertFalse(access.verify(header("alice", "pw")))
        XCTAssertFalse(access.isVerified(header("alice", "pw")), "a miss is never cached")
    }

    /// `admit` as the proxy runs it: a password check (the scrypt) where `admit` asks for one.
    private func decide(_ access: ShareAccess, _ clientIP: String, _ authorization: String?, _ limiter: GuessLimiter)
        -> ShareAccess.Admission {
        let first = access.admit(clientIP: clientIP, authorization: authorization, limiter: limiter)
        guard case .checkPassword(let value) = first else { return first }
        return access.admit(clientIP: clientIP, passwordMatched: access.verify(value), limiter: limiter)
    }

    func testWrongPasswordsCountTowardTheGuessLimiter() throws {
        var limits = GuessLimiter.Limits()
        limits.freeMisses = 1
        limits.refuseAfter = 2
        let limiter = GuessLimiter(limits: limits)
        let access = ShareAccess(shareName: "demo", networks: try networks("10.0.0.0/8"),
                                 basicAuth: try BasicAuthHash.make(user: "alice", password: Array("pw".utf8)))
        XCTAssertEqual(decide(access, "192.0.2.1", header("alice", "pw"), limiter),
                       .refuse(status: 403, reason: "allow-ip", delay: 0), "the address first, whatever the password")
        XCTAssertEqual(decide(access, "10.0.0.1", nil, limiter), .refuse(status: 401, reason: "basic-auth:missing", delay: 0))
        XCTAssertEqual(decide(access, "10.0.0.1", nil, limiter),
                       .refuse(status: 401, reason: "basic-auth:missing", delay: 0), "a browser's first request is no guess")
        XCTAssertEqual(decide(access, "10.0.0.1", header("alice", "x"), limiter), .refuse(status: 401, reason: "basic-auth:wrong", delay: 0))
        guard case .refuse(401, "basic-auth:wrong", let delay) = decide(access, "10.0.0.1", header("alice", "y"), limiter), delay > 0 else {
            return XCTFail("the second wrong password is slowed")
        }
        XCTAssertEqual(decide(access, "10.0.0.1", header("alice", "z"), limiter), .refuse(status: 429, reason: "basic-auth:throttled", delay: 0))
        XCTAssertEqual(access.admit(clientIP: "10.0.0.1", authorization: header("alice", "pw"), limiter: limiter),
                       .refuse(status: 429, reason: "basic-auth:throttled", delay: 0), "refused before any scrypt")
        XCTAssertEqual(decide(access, "10.0.0.2", header("alice", "pw"), limiter), .admit)
    }

    /// `admit` itself never runs scrypt (it runs on an event loop): an unverified password is a
    /// check to make elsewhere, a verified one is admitted at once, a malformed header is a miss.
    func testAdmitLeavesTheScryptToTheCaller() throws {
        let limiter = GuessLimiter(limits: .init())
        let access = ShareAccess(shareName: "demo", networks: [],
                                 basicAuth: try BasicAuthHash.make(user: "alice", password: Array("pw".utf8)))
        let good = header("alice", "pw")
        XCTAssertEqual(access.admit(clientIP: "10.0.0.1", authorization: good, limiter: limiter), .checkPassword(authorization: good))
        XCTAssertFalse(access.isVerified(good))
        XCTAssertTrue(access.verify(good))
        XCTAssertTrue(access.isVerified(good))
        XCTAssertEqual(access.admit(clientIP: "10.0.0.1", authorization: good, limiter: limiter), .admit)
        XCTAssertEqual(access.admit(clientIP: "10.0.0.1", authorization: "Bearer x", limiter: limiter),
                       .refuse(status: 401, reason: "basic-auth:wrong", delay: 0))
    }
}
