import Foundation
import Glibc
import Wire

/// Blocks until `fd` is readable or the time is up (the real event loop uses epoll).
func waitReadable(_ fd: Int32, milliseconds: Int32) throws {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    let rc = poll(&p, 1, milliseconds)
    if rc < 0 && errno != EINTR { throw TestFailure("poll: \(String(cString: strerror(errno)))") }
}

struct HostRoute: Hashable, CustomStringConvertible {
    let interface: String
    let destination: IPv4Address
    var description: String { "\(destination) dev \(interface)" }
}

/// /32 routes of the calling thread's namespace (/proc/thread-self, not /proc/self: the
/// namespace is per thread here).
func hostRoutes() -> [HostRoute] {
    guard let text = try? String(contentsOfFile: "/proc/thread-self/net/route", encoding: .utf8) else { return [] }
    return text.split(separator: "\n").dropFirst().compactMap { line in
        let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        // Iface Destination Gateway Flags RefCnt Use Metric Mask ...; addresses as in-memory hex.
        guard f.count >= 8, f[7] == "FFFFFFFF", let raw = UInt32(f[1], radix: 16) else { return nil }
        return HostRoute(interface: String(f[0]), destination: IPv4Address(UInt32(bigEndian: raw)))
    }
}

/// Output of a tool, or nil when it is not installed. posix_spawn and waitpid rather than
/// Foundation's Process: this runs on a thread inside a private network namespace, and Process
/// set up its child-watching machinery from such a thread once, after which later Process runs
/// in other tests (openssl in IdentityTests) never saw their children exit and hung.
func runTool(_ path: String, _ arguments: [String]) throws -> String? {
    guard access(path, X_OK) == 0 else { return nil }
    var pipeFDs: [Int32] = [0, 0]
    guard pipe(&pipeFDs) == 0 else { throw TestFailure("pipe: \(String(cString: strerror(errno)))") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
    posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    close(pipeFDs[1])
    defer { close(pipeFDs[0]) }
    guard rc == 0 else { throw TestFailure("posix_spawn \(path): \(String(cString: strerror(rc)))") }
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {   // read to the end before waiting: the pipe may fill
        let n = chunk.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
        if n > 0 { output += chunk[0..<n]; continue }
        if n < 0 && errno == EINTR { continue }
        break
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return String(decoding: output, as: UTF8.self)
}
