import Foundation
import Glibc

/// posix_spawn with a clean signal state: the roles block SIGINT/SIGTERM in every thread (for
/// signalfd), and Foundation's `Process` passes that mask on, which would leave ssh deaf to Ctrl-C
/// and ssh-agent deaf to SIGTERM. Children here start with an empty mask and default handlers.
public struct Spawned: Sendable {
    public let pid: pid_t

    /// Starts `path` with `arguments` (argv[0] is added); `stdin/stdout/stderr` of -1 inherit ours.
    public static func start(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                             stdin: Int32 = -1, stdout: Int32 = -1, stderr: Int32 = -1) throws(ChildProcess.Failure) -> Spawned {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, target) in [(stdin, Int32(0)), (stdout, 1), (stderr, 2)] where fd >= 0 {
            posix_spawn_file_actions_adddup2(&actions, fd, target)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) }
        var env = childEnvironment(ProcessInfo.processInfo.environment, adding: environment)
            .map { strdup("\($0.key)=\($0.value)") }
        defer {
            argv.forEach { free($0) }
            env.forEach { free($0) }
        }
        var argvNull = argv + [nil]
        env.append(nil)
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, &argvNull, &env)
        guard rc == 0 else { throw .launch(path, String(cString: strerror(rc))) }
        return Spawned(pid: pid)
    }

    /// Secrets vshare takes from its environment that no child (ssh, ssh-agent, a shell on the
    /// machine's side of ssh) gets: a child's environment is readable by its user's other
    /// processes and ends up in core dumps and `ssh -v` logs.
    public static let withheldVariables: Set<String> = ["VSHARE_TOKEN"]

    /// `parent` without the withheld secrets, with `extra` added (extra wins).
    public static func childEnvironment(_ parent: [String: String], adding extra: [String: String]) -> [String: String] {
        parent.filter { !withheldVariables.contains($0.key) }.merging(extra) { $1 }
    }

    /// Waits for the exit; returns the status (128 + signal for a signal death).
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return Self.decode(status)
    }

    /// The exit status if it has exited, else nil.
    public func poll() -> Int32? {
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        return rc == pid ? Self.decode(status) : nil
    }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
