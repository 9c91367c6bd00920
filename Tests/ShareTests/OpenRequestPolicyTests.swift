import XCTest
import Wire
@testable import Share

final class OpenRequestPolicyTests: XCTestCase {
    private let policy = OpenRequestPolicy(httpPort: 8080, httpsPort: 8443, sshPort: 2222)

    private func verdict(_ request: OpenRequest, policy: OpenRequestPolicy? = nil) -> OpenRequestPolicy.Verdict {
        (policy ?? self.policy).verdict(for: request.encoded())
    }

    func testServicesGoToTheConfiguredPortsWhateverTheRequestSays() {
        let http = OpenRequest(service: .http, port: 22, client: "198.51.100.7")
        XCTAssertEqual(verdict(http), .dial(port: 8080, request: http))
        let https = OpenRequest(service: .https, port: 22)
        XCTAssertEqual(verdict(https), .dial(port: 8443, request: https))
        let ssh = OpenRequest(service: .ssh, port: 80)
        XCTAssertEqual(verdict(ssh), .dial(port: 2222, request: ssh))
    }

    func testServicesTheShareDoesNotOfferAreRefused() {
        let none = OpenRequestPolicy(httpPort: nil, httpsPort: nil, sshPort: nil)
        XCTAssertEqual(verdict(OpenRequest(service: .http), policy: none), .reset(.refused, reason: "this share does not offer http"))
        XCTAssertEqual(verdict(OpenRequest(service: .https), policy: none), .reset(.refused, reason: "this share does not offer https"))
        XCTAssertEqual(verdict(OpenRequest(service: .ssh), policy: none), .reset(.refused, reason: "this share does not offer ssh"))
    }

    /// Any other port is for end-to-end sessions only: a relay that opens tcp streams gets nothing.
    func testTheRelayCannotOpenTCPStreams() {
        guard case .reset(.refused, _) = verdict(OpenRequest(service: .tcp, port: 22, confirm: true)) else {
            return XCTFail("a tcp stream from the relay must be refused")
        }
        guard case .reset(.refused, _) = verdict(OpenRequest(service: .tcp, port: 8080)) else {
            return XCTFail("even to a shared port")
        }
    }

    func testTheConfigDecidesThePorts() {
        var config = ShareConfig(relay: "relay:7000", relayCA: nil, token: nil, target: "127.0.0.1", httpPort: 80,
                                 httpsPort: 443, disableHTTP: true)
        XCTAssertEqual(OpenRequestPolicy(config: config), OpenRequestPolicy(httpPort: nil, httpsPort: 443, sshPort: nil))
        config.disableHTTP = false
        config.httpsPort = nil
        var ssh = SSHShareOptions(identity: "vagrant", password: { [] })
        ssh.port = 2200
        config.ssh = ssh
        XCTAssertEqual(OpenRequestPolicy(config: config), OpenRequestPolicy(httpPort: 80, httpsPort: nil, sshPort: 2200))
    }

    func testMalformedMetadataIsAProtocolError() {
        let expected = OpenRequestPolicy.Verdict.reset(.protocolError, reason: "malformed open request")
        XCTAssertEqual(policy.verdict(for: Array("{\"service\":\"ftp\"}".utf8)), expected)
        XCTAssertEqual(policy.verdict(for: []), expected)
    }
}
