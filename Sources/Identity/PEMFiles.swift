import CInterop
import COpenSSL
import CShims
import Glibc

/// File and PEM plumbing for `CertificateAuthority`: atomic writes with the final mode from
/// creation, and PEM encode/decode of keys and certificates through OpenSSL BIOs.
/// Every OpenSSL object returned to a caller is owned by that caller (free it).
enum PEMFiles {
    // MARK: Files

    /// Writes `bytes` to `path` atomically: a temporary file in the same directory created with
    /// `mode` (O_EXCL, so the secret never exists with wider permissions), fsync, rename over `path`,
    /// fsync of the directory.
    static func atomicWrite(path: String, bytes: UnsafeRawBufferPointer, mode: mode_t) throws {
        let directory = parentDirectory(of: path)
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        let tmp = "\(directory)/.\(name).tmp-\(getpid())-\(UInt32.random(in: .min ... .max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw CertificateAuthorityError.fileSystem(operation: "create", path: tmp, errno: errno) }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            defer { close(fd) }
            var offset = 0
            while offset < bytes.count {
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CertificateAuthorityError.fileSystem(operation: "write", path: tmp, errno: errno)
                }
                offset += n
            }
            guard fsync(fd) == 0 else {
                throw CertificateAuthorityError.fileSystem(operation: "fsync", path: tmp, errno: errno)
            }
        }
        guard rename(tmp, path) == 0 else {
            throw CertificateAuthorityError.fileSystem(operation: "rename to \(path)", path: tmp, errno: errno)
        }
        ok = true
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }

    static func atomicWrite(path: String, string: String, mode: mode_t) throws {
        var copy = string
        try copy.withUTF8 { try atomicWrite(path: path, bytes: UnsafeRawBufferPointer($0), mode: mode) }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Creates `path` with mode 0700 if missing (parents with 0700 too). An existing directory must
    /// be this user's and closed to group and others (it holds the CA key and the owner token:
    /// another user who can list it learns names, one who can write it can swap `ca.pem`); it is
    /// refused otherwise, with the command that fixes it. Parents are left as they are.
    static func makeDirectory(_ path: String) throws {
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw CertificateAuthorityError.fileSystem(operation: "use as directory", path: path, errno: ENOTDIR)
            }
            if let problem = CertificateAuthority.unsafeDirectoryProblem(owner: st.st_uid, mode: st.st_mode, user: geteuid()) {
                throw CertificateAuthorityError.unsafeDirectory(path: path, problem: problem)
            }
            return
        }
        try createDirectory(path)
    }

    private static func createDirectory(_ path: String) throws {
        var st = stat()
        if stat(path, &st) == 0 { return }
        let parent = parentDirectory(of: path)
        if parent != path, parent != "/", parent != "." { try createDirectory(parent) }
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw CertificateAuthorityError.fileSystem(operation: "mkdir", path: path, errno: errno)
        }
    }

    /// Opens `dir/.lock` and takes an exclusive flock on it; close the returned descriptor to release.
    static func lockDirectory(_ dir: String) throws -> Int32 {
        let path = dir + "/.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw CertificateAuthorityError.fileSystem(operation: "open lock file", path: path, errno: errno) }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let code = errno
            close(fd)
            throw CertificateAuthorityError.fileSystem(operation: "lock", path: path, errno: code)
        }
        return fd
    }

    // MARK: PEM encoding

    /// Runs `encode` into a memory BIO and writes its contents atomically to `path`.
    /// Private keys go through a secure-memory BIO, and the copy we read out is wiped.
    static func writePEM(path: String, mode: mode_t, secret: Bool, what: String,
                         encode: (OpaquePointer) -> Int32) throws {
        guard let bio = BIO_new(secret ? BIO_s_secmem() : BIO_s_mem()) else {
            throw CertificateAuthorityError.openSSL(operation: "BIO_new for \(what)", detail: OpenSSLError.drain())
        }
        defer { BIO_free_all(bio) }
        guard encode(bio) == 1 else {
            throw CertificateAuthorityError.openSSL(operation: "PEM-encode \(what)", detail: OpenSSLError.drain())
        }
        let pending = Int(vshare_BIO_pending(bio))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(pending, 1), alignment: 1)
        defer {
            explicit_bzero(buffer.baseAddress!, buffer.count)
            buffer.deallocate()
        }
        let read = BIO_read(bio, buffer.baseAddress, Int32(pending))
        guard read == pending else {
            throw CertificateAuthorityError.openSSL(operation: "read PEM of \(what)", detail: OpenSSLError.drain())
        }
        try atomicWrite(path: path, bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<pending]), mode: mode)
    }

    static func writePrivateKey(_ key: OpaquePointer, path: String) throws {
        try writePEM(path: path, mode: 0o600, secret: true, what: "private key") {
            PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil)
        }
    }

    static func writeCertificate(_ cert: OpaquePointer, path: String) throws {
        try writePEM(path: path, mode: 0o644, secret: false, what: "certificate") {
            PEM_write_bio_X509($0, cert)
        }
    }

    // MARK: PEM decoding (caller frees the result)

    static func readCertificate(path: String) throws -> OpaquePointer {
        ERR_clear_error()
        guard let bio = BIO_new_file(path, "r") else {
            throw CertificateAuthorityError.openSSL(operation: "open certificate \(path)", detail: OpenSSLError.drain())
        }
        defer { BIO_free_all(bio) }
        guard let cert = PEM_read_bio_X509(bio, nil, nil, nil) else {
            throw CertificateAuthorityError.malformedFile(path: path, detail: OpenSSLError.drain())
        }
        return cert
    }

    static func readPrivateKey(path: String) throws -> OpaquePointer {
        ERR_clear_error()
        guard let bio = BIO_new_file(path, "r") else {
            throw CertificateAuthorityError.openSSL(operation: "open private key \(path)", detail: OpenSSLError.drain())
        }
        defer { BIO_free_all(bio) }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
            throw CertificateAuthorityError.malformedFile(path: path, detail: OpenSSLError.drain())
        }
        return key
    }
}
