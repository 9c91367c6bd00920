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
        // The agent binds its socket, then listens: the file appears before a connection would be
        // accepted (ssh-add then fails with "Connection refused", seen on a loaded machine), so wait
        // until a connection goes through.
        for _ in 0..<250 {
            if PrivateSSHAgent.accepts(socketPath) { return }
            if process.poll() != nil { stopped = true; break }
            usleep(20_000)
        }
        stop()
        throw .launch("ssh-agent", "it did not listen on its socket \(socketPath)")
    }

    /// Whether a Unix stream socket at `path` accepts a connection (closed again at once).
    static func accepts(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
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
