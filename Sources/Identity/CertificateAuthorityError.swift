import CInterop
import COpenSSL
import CShims
import Glibc
import Wire

public enum CertificateAuthorityError: Error, CustomStringConvertible {
    /// A system call on a file or directory failed.
    case fileSystem(operation: String, path: String, errno: Int32)
    /// An OpenSSL call failed; `detail` is OpenSSL's error queue.
    case openSSL(operation: String, detail: String)
    /// A PEM file exists but could not be parsed.
    case malformedFile(path: String, detail: String)
    /// `ca.pem` exists but its key does not (or the other way round); regenerating would break pinned clients.
    case incompleteCA(present: String, missing: String)
    /// `ca-key.pem` does not belong to `ca.pem`, or `server.pem` was not issued by it.
    case mismatchedFiles(String)
    /// A hostname that is neither a DNS name nor an IP literal.
    case invalidHostname(String)
    /// The token file is missing, unreadable or empty.
    case badToken(path: String, reason: String)
    /// The data directory exists but is another user's or open to group/others.
    case unsafeDirectory(path: String, problem: DirectoryProblem)

    public enum DirectoryProblem: Equatable, Sendable {
        case owner(uid: uid_t, user: uid_t)
        case mode(mode_t)
    }

    public var description: String {
        switch self {
        case let .fileSystem(operation, path, code):
            return "\(operation) \(path) failed: \(String(cString: strerror(code))) (errno \(code)). "
                + "Check that the data directory exists, is writable by this user and is on a local file system."
        case let .openSSL(operation, detail):
            return "OpenSSL could not \(operation): \(detail). This is unexpected; check that libssl3 is installed and intact."
        case let .malformedFile(path, detail):
            return "\(path) is not a valid PEM file (\(detail)). Restore it from a backup, or delete it so the relay creates a new one "
                + "(a new CA means every agent must fetch the new ca.pem)."
        case let .incompleteCA(present, missing):
            return "\(present) exists but \(missing) is missing, so the relay cannot sign certificates with its CA. "
                + "Restore \(missing), or delete \(present) to create a new CA (agents must then fetch the new ca.pem)."
        case let .mismatchedFiles(what):
            return "\(what). Restore the matching files, or delete the data directory's PEM files to start over."
        case let .invalidHostname(name):
            return "\"\(name)\" is neither a DNS name nor an IPv4/IPv6 address; pass the names clients use to reach the relay "
                + "(for example relay.example.com or 203.0.113.7)."
        case let .unsafeDirectory(path, .owner(uid, user)):
            return "refusing to use the data directory \(path): it belongs to uid \(uid), not to this user (uid \(user)), "
                + "and it holds the CA key and the owner token. Fix: chown \(user) \(path) && chmod 700 \(path), or choose another --data-dir."
        case let .unsafeDirectory(path, .mode(mode)):
            return "refusing to use the data directory \(path): its mode is \(String(mode, radix: 8)), so other users can "
                + "\(mode & 0o022 != 0 ? "change" : "list") what holds the CA key and the owner token. Fix: chmod 700 \(path)"
        case let .badToken(path, reason):
            return "cannot read the owner token from \(path): \(reason). Delete it to let the relay create a new one."
        }
    }
}
