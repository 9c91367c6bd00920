import SSHKeys
import XCTest

final class SpawnTests: XCTestCase {
    func testChildrenDoNotInheritTheToken() {
        let env = Spawned.childEnvironment(["PATH": "/bin", "VSHARE_TOKEN": "secret", "VSHARE_RELAY": "r:1"],
                                           adding: ["SSH_AUTH_SOCK": "/s"])
        XCTAssertEqual(env, ["PATH": "/bin", "VSHARE_RELAY": "r:1", "SSH_AUTH_SOCK": "/s"])
    }

    /// Through a real spawn: the child's environment has no token.
    func testASpawnedChildSeesNoToken() throws {
        setenv("VSHARE_TOKEN", "spawn-test-secret", 1)
        defer { unsetenv("VSHARE_TOKEN") }
        let result = try ChildProcess.run("env", [])
        XCTAssertTrue(result.ok)
        XCTAssertFalse(result.output.contains("spawn-test-secret"), result.output)
        XCTAssertTrue(result.output.contains("PATH="), result.output)
    }
}
