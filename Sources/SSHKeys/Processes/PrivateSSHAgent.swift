import Foundation
import Glibc

/// An `ssh-agent` of our own, listening on a socket in a 0700 directory, holding one key that
/// reached it through a pipe (`ssh-add -`), so the private key is never written to disk. The key
/// has a lifetime (`ssh-add -t`): should this process die without `stop()`, the agent forgets the
/// key anyway. `stop()` terminates the agent (by its pid).
public final class PrivateSSHAgent: @unchecked Sendable {
    public let socketPath: String
    private let process: Spawned
    private var stopped = false

    public init(directory: PrivateDirectory) throws(ChildProcess.Failure) {
        socketPath = directory.path + "/agent.sock"
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        process = try Spawned.start(try ChildProcess.locate("ssh-agent"), ["-D", "-a", socketPath],
                                    stdin: null, stdout: null, stderr: null)
        // The agent binds its socket right after start.
        for _ in 0..<250 {
            if access(socketPath, F_OK) == 0 { return }
            if process.poll() != nil { stopped = true; break }
            usleep(20_000)
        }
        stop()
        throw .launch("ssh-agent", "it did not create its socket \(socketPath)")
    }

    /// Adds an OpenSSH-format private key, read by `ssh-add` from a pipe, for `lifetime` seconds.
    public func add(privateKey: [UInt8], lifetime: Int = 300) throws(ChildProcess.Failure) {
        let result = try ChildProcess.run("ssh-add", ["-q", "-t", String(lifetime), "-"], input: privateKey,
                                          environment: ["SSH_AUTH_SOCK": socketPath, "SSH_ASKPASS": "", "DISPLAY": ""])
        guard result.ok else { throw .launch("ssh-add", result.errorSummary) }
    }

    public func stop() {
        guard !stopped else { return }
        stopped = true
        process.signal(SIGTERM)
        _ = process.wait()
    }

    deinit { stop() }
}
