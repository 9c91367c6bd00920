import XCTest
import Wire
@testable import Share

final class OpenRequestPolicyTests: XCTestCase {
    private let policy = OpenRequestPolicy(httpPort: 8080, httpsPort: 8443)
    private let liveSession: UInt32 = 3

    private func verdict(_ request: OpenRequest, policy: OpenRequestPolicy? = nil) -> OpenRequestPolicy.Verdict {
        (policy ?? self.policy).verdict(for: request.encoded(), isLiveSession: { $0 == self.liveSession })
    }

    func testHTTPAndHTTPSGoToTheConfiguredPortsWhateverTheRequestSays() {
        let http = OpenRequest(service: .http, port: 22, client: "198.51.100.7")
        XCTAssertEqual(verdict(http), .dial(port: 8080, request: http))
        let https = OpenRequest(service: .https, port: 22)
        XCTAssertEqual(verdict(https), .dial(port: 8443, request: https))
    }

    func testServicesTheShareDoesNotOfferAreRefused() {
        let noWeb = OpenRequestPolicy(httpPort: nil, httpsPort: nil)
        XCTAssertEqual(verdict(OpenRequest(service: .http), policy: noWeb), .reset(.refused, reason: "this share does not offer http"))
        XCTAssertEqual(verdict(OpenRequest(service: .https), policy: noWeb), .reset(.refused, reason: "this share does not offer https"))
    }

    func testTCPIsForTheAgentsOwnLiveSessionsOnly() {
        let own = OpenRequest(service: .tcp, port: 22, session: liveSession, confirm: true)
        XCTAssertEqual(verdict(own), .dial(port: 22, request: own))
        let refused = OpenRequestPolicy.Verdict.reset(.refused, reason: "this share does not offer tcp")
        XCTAssertEqual(verdict(OpenRequest(service: .tcp, port: 22, session: 4)), refused)   // not a live session
        XCTAssertEqual(verdict(OpenRequest(service: .tcp, port: 22)), refused)               // public traffic
        XCTAssertEqual(verdict(OpenRequest(service: .tcp, session: liveSession)), refused)   // no port
    }

    func testTheConfigDecidesThePorts() {
        var config = ShareConfig(relay: "relay:7000", relayCA: nil, token: nil, target: "127.0.0.1", httpPort: 80,
                                 httpsPort: 443, disableHTTP: true)
        XCTAssertEqual(OpenRequestPolicy(config: config), OpenRequestPolicy(httpPort: nil, httpsPort: 443))
        config.disableHTTP = false
        config.httpsPort = nil
        XCTAssertEqual(OpenRequestPolicy(config: config), OpenRequestPolicy(httpPort: 80, httpsPort: nil))
    }

    func testMalformedMetadataIsAProtocolError() {
        let expected = OpenRequestPolicy.Verdict.reset(.protocolError, reason: "malformed open request")
        XCTAssertEqual(policy.verdict(for: Array("{\"service\":\"ftp\"}".utf8), isLiveSession: { _ in true }), expected)
        XCTAssertEqual(policy.verdict(for: [], isLiveSession: { _ in true }), expected)
    }
}
