import CShims
import Foundation
import Glibc
import Wire

/// Runs a system tool (ssh, ssh-add, ssh-agent) to completion: optional bytes on its standard input
/// through a pipe (never a file), standard output and error captured. Pipes are drained on their own
/// threads so a chatty child never blocks.
public enum ChildProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var errorOutput: String
        public var ok: Bool { status == 0 }
        /// The last lines of standard error, for an error message.
        public var errorSummary: String {
            let text = String(errorOutput.trimmingASCIIWhitespace())
            return text.isEmpty ? "exit status \(status)" : text.split(separator: "\n").suffix(3).joined(separator: " / ")
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case notFound(String)
        case launch(String, String)
        public var description: String {
            switch self {
            case .notFound(let tool): return "\(tool) was not found on PATH: install the OpenSSH client (apt install openssh-client)"
            case .launch(let tool, let why): return "cannot run \(tool): \(why)"
            }
        }
    }

    /// The absolute path of `tool` on PATH.
    public static func locate(_ tool: String) throws(Failure) -> String {
        if tool.contains("/") { return tool }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(tool)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw .notFound(tool)
    }

    public static func run(_ tool: String, _ arguments: [String], input: [UInt8]? = nil,
                           environment: [String: String] = [:]) throws(Failure) -> Result {
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        func cloexecPipe(_ fds: inout [Int32]) -> Bool { vshare_pipe_cloexec(&fds) == 0 }
        guard cloexecPipe(&inPipe), cloexecPipe(&outPipe), cloexecPipe(&errPipe) else {
            throw .launch(tool, "pipe: \(String(cString: strerror(errno)))")
        }
        let child: Spawned
        do {
            child = try Spawned.start(try locate(tool), arguments, environment: environment,
                                      stdin: inPipe[0], stdout: outPipe[1], stderr: errPipe[1])
        } catch {
            for fd in inPipe + outPipe + errPipe { close(fd) }
            throw error
        }
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        signal(SIGPIPE, SIG_IGN)   // a child that exits before reading its input must not kill us
        let collected = Collected()
        let group = DispatchGroup()
        for (fd, isError) in [(outPipe[0], false), (errPipe[0], true)] {
            group.enter()
            Thread.detachNewThread {
                var data: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 16 * 1024)
                while true {
                    let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    data += buffer[0..<n]
                }
                close(fd)
                collected.set(String(decoding: data, as: UTF8.self), isError: isError)
                group.leave()
            }
        }
        if let input {
            input.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = Glibc.write(inPipe[1], bytes.baseAddress! + offset, bytes.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
        close(inPipe[1])
        group.wait()
        let status = child.wait()
        let (output, errorOutput) = collected.values
        return Result(status: status, output: output, errorOutput: errorOutput)
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var output = "", errorOutput = ""
        func set(_ text: String, isError: Bool) { lock.lock(); if isError { errorOutput = text } else { output = text }; lock.unlock() }
        var values: (String, String) { lock.lock(); defer { lock.unlock() }; return (output, errorOutput) }
    }
}

/// A directory only this user can enter (mkdtemp: mode 0700), removed with everything in it.
public final class PrivateDirectory: @unchecked Sendable {
    public let path: String

    public init(prefix: String) throws(ChildProcess.Failure) {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw .launch("mkdtemp", String(cString: strerror(errno)))
        }
        path = String(cString: made)
    }

    /// Writes public data (known_hosts, a public key) into the directory, mode 0600.
    public func write(_ name: String, _ text: String) throws(ChildProcess.Failure) {
        let file = "\(path)/\(name)"
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .launch("open \(file)", String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw .launch("write \(file)", String(cString: strerror(errno)))
        }
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
