import XCTest
@testable import Share

final class ConnectScopeTests: XCTestCase {
    private func config(http: UInt16 = 80, https: UInt16? = nil, disableHTTP: Bool = false, ssh: UInt16? = nil,
                        ports: ConnectPorts = .automatic) -> ShareConfig {
        var config = ShareConfig(relay: "127.0.0.1:7443", relayCA: nil, token: "t", target: "127.0.0.1",
                                 httpPort: http, httpsPort: https, disableHTTP: disableHTTP)
        if let ssh {
            config.ssh = SSHShareOptions(identity: "/dev/null") { [] }
            config.ssh?.port = ssh
        }
        config.connectPorts = ports
        return config
    }

    func testAutomaticReachesEveryPortOfAnotherMachine() {
        let scope = ConnectScope(config: config(), targetIsThisHost: false)
        XCTAssertEqual(scope.ports, .all)
        XCTAssertFalse(scope.isOff)
        for port: UInt16 in [1, 22, 80, 5432, 65535] { XCTAssertTrue(scope.allows(port: port)) }
        XCTAssertEqual(scope.summary, "Connect reaches every port of the machine.")
    }

    func testAutomaticReachesOnlyTheSharedPortsOfThisHost() {
        let scope = ConnectScope(config: config(http: 80, ssh: 22), targetIsThisHost: true)
        XCTAssertEqual(scope.ports, .only([80, 22]))
        XCTAssertTrue(scope.allows(port: 80))
        XCTAssertTrue(scope.allows(port: 22))
        XCTAssertFalse(scope.allows(port: 5432))
        XCTAssertFalse(scope.allows(port: 443))
        XCTAssertEqual(scope.summary, "Connect reaches only ports 80, 22 of this host (it is the share's target); pass --all-ports to open every port, or --ports to choose.")
    }

    func testTheSharedPortsAreHTTPUnlessDisabledHTTPSAndSSHWithoutRepeats() {
        XCTAssertEqual(ConnectScope.sharedPorts(of: config(http: 8080, https: 8443, ssh: 2222)), [8080, 8443, 2222])
        XCTAssertEqual(ConnectScope.sharedPorts(of: config(http: 8080, https: 8443, disableHTTP: true)), [8443])
        XCTAssertEqual(ConnectScope.sharedPorts(of: config(http: 22, ssh: 22)), [22])
        XCTAssertEqual(ConnectScope.sharedPorts(of: config(http: 80)), [80])
        let https = ConnectScope(config: config(https: 443, disableHTTP: true), targetIsThisHost: true)
        XCTAssertEqual(https.summary, "Connect reaches only port 443 of this host (it is the share's target); pass --all-ports to open every port, or --ports to choose.")
    }

    func testAutomaticOnThisHostSharingNothingReachesNoPort() {
        let scope = ConnectScope(config: config(disableHTTP: true), targetIsThisHost: true)
        XCTAssertEqual(scope.ports, .only([]))
        XCTAssertFalse(scope.isOff, "connect sessions still open; every stream is reset")
        XCTAssertFalse(scope.allows(port: 80))
        XCTAssertTrue(scope.summary.hasPrefix("Connect reaches no port of this host"), scope.summary)
    }

    func testAllPortsOpensEveryPortEvenOfThisHost() {
        let scope = ConnectScope(config: config(ports: .all), targetIsThisHost: true)
        XCTAssertTrue(scope.allows(port: 5432))
        XCTAssertEqual(scope.summary, "Connect reaches every port of this host (it is the share's target).")
    }

    func testPortsAreExactlyTheListWhateverTheTarget() {
        for thisHost in [true, false] {
            let scope = ConnectScope(config: config(http: 80, ssh: 22, ports: .only([5432, 6379])), targetIsThisHost: thisHost)
            XCTAssertTrue(scope.allows(port: 5432))
            XCTAssertTrue(scope.allows(port: 6379))
            XCTAssertFalse(scope.allows(port: 80), "--ports means exactly those, not the shared ports too")
            XCTAssertFalse(scope.allows(port: 22))
        }
        XCTAssertEqual(ConnectScope(config: config(ports: .only([5432, 6379])), targetIsThisHost: false).summary,
                       "Connect reaches only ports 5432, 6379 of the machine.")
    }

    func testNoConnectIsOffAndAllowsNothing() {
        let scope = ConnectScope(config: config(ports: .off), targetIsThisHost: false)
        XCTAssertTrue(scope.isOff)
        XCTAssertFalse(scope.allows(port: 80))
        XCTAssertEqual(scope.summary, "Connect is off (--no-connect): vshare connect cannot reach the machine.")
    }

    func testLoopbackAndUnspecifiedAddressesAreThisHost() {
        for address in ["127.0.0.1", "127.1.2.3", "0.0.0.0", "::1", "0:0::1", "::", "::ffff:127.0.0.1"] {
            XCTAssertTrue(ConnectScope.isThisHost(address, interfaceAddresses: []), address)
        }
    }

    func testAnInterfaceAddressIsThisHostInAnySpelling() {
        let interfaces = ["127.0.0.1", "10.0.2.15", "fe80::a00:27ff:fe4e:66a1%eth0", "2001:db8::5"]
        XCTAssertTrue(ConnectScope.isThisHost("10.0.2.15", interfaceAddresses: interfaces))
        XCTAssertTrue(ConnectScope.isThisHost("::ffff:10.0.2.15", interfaceAddresses: interfaces))
        XCTAssertTrue(ConnectScope.isThisHost("2001:db8:0:0::5", interfaceAddresses: interfaces))
        XCTAssertTrue(ConnectScope.isThisHost("fe80::a00:27ff:fe4e:66a1", interfaceAddresses: interfaces))
    }

    func testOtherAddressesAreAnotherMachine() {
        let interfaces = ["127.0.0.1", "10.0.2.15", "::1"]
        for address in ["10.0.2.16", "192.168.56.10", "2001:db8::6", "128.0.0.1", "::2"] {
            XCTAssertFalse(ConnectScope.isThisHost(address, interfaceAddresses: interfaces), address)
        }
    }

    /// A name (not resolved) cannot be decided: it counts as this host, the narrower scope.
    func testANameCountsAsThisHost() {
        XCTAssertTrue(ConnectScope.isThisHost("myvm.local", interfaceAddresses: ["10.0.2.15"]))
    }
}
