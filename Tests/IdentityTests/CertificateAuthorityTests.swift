import Foundation
import Glibc
import Identity
import XCTest
@testable import Transport

final class CertificateAuthorityTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/vshare-ca-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        XCTAssertNotNil(made)
        dir = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    // MARK: helpers

    private func mode(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0, "stat \(path)")
        return st.st_mode & 0o7777
    }

    private func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Runs the openssl CLI (fine in tests) and returns (exit status, stdout+stderr).
    private func openssl(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    private func certText(_ path: String) throws -> String {
        let (status, text) = try openssl(["x509", "-in", path, "-noout", "-text"])
        XCTAssertEqual(status, 0, text)
        return text
    }

    private func verify(ca: String, cert: String, host: String? = nil, ip: String? = nil) throws -> Bool {
        var args = ["verify", "-CAfile", ca, "-purpose", "sslserver"]
        if let host { args += ["-verify_hostname", host] }
        if let ip { args += ["-verify_ip", ip] }
        let (status, text) = try openssl(args + [cert])
        return status == 0 && text.contains(": OK")
    }

    // MARK: tests

    func testFirstStartCreatesFilesWithModes() throws {
        let data = dir + "/relay/data"
        let id = try CertificateAuthority.loadOrCreate(dataDir: data, hostnames: ["relay.example.com", "203.0.113.7"])
        XCTAssertEqual(mode(data), 0o700)
        XCTAssertEqual(mode(data + "/ca-key.pem"), 0o600)
        XCTAssertEqual(mode(data + "/server-key.pem"), 0o600)
        XCTAssertEqual(mode(data + "/token"), 0o600)
        XCTAssertEqual(id.caCertificatePath, data + "/ca.pem")
        XCTAssertEqual(id.certificatePath, data + "/server.pem")
        XCTAssertEqual(id.privateKeyPath, data + "/server-key.pem")
        XCTAssertTrue(FileManager.default.fileExists(atPath: id.caCertificatePath))
        XCTAssertTrue(FileManager.default.fileExists(atPath: id.certificatePath))

        // Token: 32 random bytes as hex, stored with a newline, read back trimmed.
        XCTAssertEqual(id.token.count, 64)
        XCTAssertTrue(id.token.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        XCTAssertEqual(try CertificateAuthority.readToken(path: data + "/token"), id.token)

        // No temporary files left behind; only the lock file besides the five.
        let listing = try FileManager.default.contentsOfDirectory(atPath: data).sorted()
        XCTAssertEqual(listing, [".lock", "ca-key.pem", "ca.pem", "server-key.pem", "server.pem", "token"])

        // Keys are PEM private keys.
        XCTAssertTrue(String(decoding: try bytes(data + "/ca-key.pem"), as: UTF8.self).hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    func testCertificatesHaveExpectedContents() throws {
        let id = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: ["relay.example.com", "203.0.113.7", "2001:db8::1"])

        let ca = try certText(id.caCertificatePath)
        XCTAssertTrue(ca.contains("CA:TRUE, pathlen:0"), ca)
        XCTAssertTrue(ca.contains("Basic Constraints: critical"), ca)
        XCTAssertTrue(ca.contains("Certificate Sign, CRL Sign"), ca)
        XCTAssertTrue(ca.contains("Subject Key Identifier"), ca)
        XCTAssertTrue(ca.contains("ASN1 OID: prime256v1"), ca)
        XCTAssertNotNil(ca.range(of: #"CN ?= ?vshare relay CA [0-9a-f]{16}"#, options: .regularExpression), ca)

        let server = try certText(id.certificatePath)
        XCTAssertNotNil(server.range(of: #"Subject: CN ?= ?relay\.example\.com"#, options: .regularExpression), server)
        XCTAssertTrue(server.contains("TLS Web Server Authentication, TLS Web Client Authentication"), server)
        XCTAssertTrue(server.contains("Digital Signature"), server)
        XCTAssertTrue(server.contains("Authority Key Identifier"), server)
        XCTAssertTrue(server.contains("ecdsa-with-SHA256"), server)

        let sans = try CertificateAuthority.subjectAltNames(certificatePath: id.certificatePath)
        XCTAssertEqual(sans, ["DNS:localhost", "IP:127.0.0.1", "DNS:relay.example.com", "IP:203.0.113.7", "IP:2001:db8::1"])

        // Chain verifies against the CA, for names and addresses in the SANs only.
        XCTAssertTrue(try verify(ca: id.caCertificatePath, cert: id.certificatePath))
        XCTAssertTrue(try verify(ca: id.caCertificatePath, cert: id.certificatePath, host: "localhost"))
        XCTAssertTrue(try verify(ca: id.caCertificatePath, cert: id.certificatePath, host: "relay.example.com"))
        XCTAssertTrue(try verify(ca: id.caCertificatePath, cert: id.certificatePath, ip: "127.0.0.1"))
        XCTAssertTrue(try verify(ca: id.caCertificatePath, cert: id.certificatePath, ip: "203.0.113.7"))
        XCTAssertFalse(try verify(ca: id.caCertificatePath, cert: id.certificatePath, host: "other.example.com"))
        XCTAssertFalse(try verify(ca: id.caCertificatePath, cert: id.certificatePath, ip: "198.51.100.1"))

        // The server key belongs to the server certificate.
        let (status, keyPub) = try openssl(["pkey", "-in", id.privateKeyPath, "-pubout"])
        XCTAssertEqual(status, 0)
        let (status2, certPub) = try openssl(["x509", "-in", id.certificatePath, "-noout", "-pubkey"])
        XCTAssertEqual(status2, 0)
        XCTAssertEqual(keyPub, certPub)

        // A different CA does not verify it.
        let otherDir = dir + "/other"
        let other = try CertificateAuthority.loadOrCreate(dataDir: otherDir, hostnames: [])
        XCTAssertFalse(try verify(ca: other.caCertificatePath, cert: id.certificatePath))
        XCTAssertNotEqual(other.token, id.token)
    }

    func testValidityAndSerial() throws {
        let id = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: ["a.example"])
        let now = Date()
        for (path, years) in [(id.caCertificatePath, 10.0), (id.certificatePath, 2.0)] {
            let (_, dates) = try openssl(["x509", "-in", path, "-noout", "-startdate", "-enddate", "-serial"])
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
            var fields: [String: String] = [:]
            for line in dates.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1)
                if parts.count == 2 {
                    fields[String(parts[0])] = String(parts[1]).replacingOccurrences(of: "  ", with: " ")
                }
            }
            let notBefore = try XCTUnwrap(fields["notBefore"].flatMap(formatter.date(from:)), dates)
            let notAfter = try XCTUnwrap(fields["notAfter"].flatMap(formatter.date(from:)), dates)
            XCTAssertLessThan(notBefore, now.addingTimeInterval(-60), "notBefore is backdated")
            XCTAssertGreaterThan(notBefore, now.addingTimeInterval(-86_400))
            let lifetime = notAfter.timeIntervalSince(now) / (365.25 * 86_400)
            XCTAssertEqual(lifetime, years, accuracy: 0.05, path)
            let serial = try XCTUnwrap(fields["serial"])
            XCTAssertGreaterThanOrEqual(serial.count, 20, "serial \(serial) should carry ~128 random bits")
        }
    }

    func testSecondStartReusesEverything() throws {
        let first = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: ["relay.example.com"])
        let ca = try bytes(first.caCertificatePath)
        let caKey = try bytes(dir + "/ca-key.pem")
        let server = try bytes(first.certificatePath)
        let serverKey = try bytes(first.privateKeyPath)

        let second = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: ["relay.example.com"])
        XCTAssertEqual(second.token, first.token)
        XCTAssertEqual(try bytes(second.caCertificatePath), ca)
        XCTAssertEqual(try bytes(dir + "/ca-key.pem"), caKey)
        XCTAssertEqual(try bytes(second.certificatePath), server)
        XCTAssertEqual(try bytes(second.privateKeyPath), serverKey)

        // A subset of the names, or the implicit localhost/127.0.0.1, or different spelling, needs no reissue.
        _ = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: ["RELAY.example.com.", "localhost", "127.0.0.1"])
        _ = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: [])
        XCTAssertEqual(try bytes(first.certificatePath), server)
    }

    func testNewHostnameReissuesServerCertificateKeepingCA() throws {
        let first = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: ["relay.example.com"])
        let ca = try bytes(first.caCertificatePath)
        let server = try bytes(first.certificatePath)

        let second = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: ["relay.example.com", "198.51.100.9", "[::1]"])
        XCTAssertEqual(second.token, first.token)
        XCTAssertEqual(try bytes(second.caCertificatePath), ca, "CA is kept")
        XCTAssertNotEqual(try bytes(second.certificatePath), server, "server certificate is reissued")
        let sans = try CertificateAuthority.subjectAltNames(certificatePath: second.certificatePath)
        XCTAssertEqual(Set(sans), ["DNS:localhost", "IP:127.0.0.1", "DNS:relay.example.com", "IP:198.51.100.9", "IP:::1"])
        XCTAssertTrue(try verify(ca: second.caCertificatePath, cert: second.certificatePath, ip: "198.51.100.9"))

        // Asking for a new name alone keeps the old ones too (clients may still use them).
        let third = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: ["new.example.org"])
        let sans3 = try CertificateAuthority.subjectAltNames(certificatePath: third.certificatePath)
        XCTAssertTrue(sans3.contains("DNS:new.example.org"))
        XCTAssertTrue(sans3.contains("DNS:relay.example.com"))
        XCTAssertTrue(sans3.contains("IP:198.51.100.9"))
        XCTAssertTrue(try verify(ca: third.caCertificatePath, cert: third.certificatePath, host: "new.example.org"))
        XCTAssertEqual(try bytes(third.caCertificatePath), ca)
        XCTAssertEqual(mode(third.certificatePath) & 0o077 & ~0o044, 0)
    }

    func testConcurrentFirstStartsAgree() throws {
        let data = dir + "/concurrent"
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            do {
                results.append(try CertificateAuthority.loadOrCreate(dataDir: data, hostnames: ["host\(i % 2).example"]))
            } catch {
                results.fail("\(error)")
            }
        }
        let identities = results.identities
        XCTAssertEqual(results.errors, [])
        XCTAssertEqual(identities.count, 6)
        XCTAssertEqual(Set(identities.map(\.token)).count, 1, "every start sees the same token")
        let final = try CertificateAuthority.loadOrCreate(dataDir: data, hostnames: ["host0.example", "host1.example"])
        XCTAssertTrue(try verify(ca: final.caCertificatePath, cert: final.certificatePath, host: "host0.example"))
        XCTAssertTrue(try verify(ca: final.caCertificatePath, cert: final.certificatePath, host: "host1.example"))
    }

    func testMissingServerKeyIsRegenerated() throws {
        let first = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: [])
        let ca = try bytes(first.caCertificatePath)
        XCTAssertEqual(unlink(first.privateKeyPath), 0)
        let second = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: [])
        XCTAssertEqual(mode(second.privateKeyPath), 0o600)
        XCTAssertEqual(try bytes(second.caCertificatePath), ca)
        XCTAssertTrue(try verify(ca: second.caCertificatePath, cert: second.certificatePath, host: "localhost"))
        let (_, keyPub) = try openssl(["pkey", "-in", second.privateKeyPath, "-pubout"])
        let (_, certPub) = try openssl(["x509", "-in", second.certificatePath, "-noout", "-pubkey"])
        XCTAssertEqual(keyPub, certPub)
    }

    func testCorruptServerCertificateIsReissued() throws {
        let first = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: ["relay.example.com"])
        let ca = try bytes(first.caCertificatePath)
        let key = try bytes(first.privateKeyPath)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: first.certificatePath))
        let second = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: ["relay.example.com"])
        XCTAssertEqual(try bytes(second.caCertificatePath), ca)
        XCTAssertEqual(try bytes(second.privateKeyPath), key, "the server key is kept")
        XCTAssertTrue(try verify(ca: second.caCertificatePath, cert: second.certificatePath, host: "relay.example.com"))
    }

    func testErrors() throws {
        XCTAssertThrowsError(try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: ["bad host"])) { error in
            guard case CertificateAuthorityError.invalidHostname("bad host") = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("bad host"))
        }
        for bad in ["a,b.example", "-x.example", "1.2.3", "", "fe80::1%eth0", "exa mple.com", "x..y"] {
            XCTAssertThrowsError(try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: [bad]), bad)
        }

        // CA certificate without its key: refuse instead of silently replacing the CA.
        _ = try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: [])
        XCTAssertEqual(unlink(dir + "/ca-key.pem"), 0)
        XCTAssertThrowsError(try CertificateAuthority.loadOrCreate(dataDir: dir, hostnames: [])) { error in
            guard case CertificateAuthorityError.incompleteCA = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("ca-key.pem"))
        }

        // Garbage PEM.
        let garbage = dir + "/g"
        _ = try CertificateAuthority.loadOrCreate(dataDir: garbage, hostnames: [])
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: garbage + "/ca.pem"))
        XCTAssertThrowsError(try CertificateAuthority.loadOrCreate(dataDir: garbage, hostnames: [])) { error in
            guard case CertificateAuthorityError.malformedFile = error else { return XCTFail("\(error)") }
        }

        // Unwritable data directory location.
        XCTAssertThrowsError(try CertificateAuthority.loadOrCreate(dataDir: "/proc/vshare-nope", hostnames: []))
    }

    /// An existing data directory open to others, or someone else's, is refused with the fix.
    func testAnUnsafeExistingDataDirectoryIsRefusedWithTheFix() throws {
        let data = dir + "/loose"
        XCTAssertEqual(mkdir(data, 0o700), 0)
        for (mode, word) in [(mode_t(0o755), "list"), (0o770, "change"), (0o707, "change"), (0o740, "list")] {
            XCTAssertEqual(chmod(data, mode), 0)
            XCTAssertThrowsError(try CertificateAuthority.loadOrCreate(dataDir: data, hostnames: [])) { error in
                guard case CertificateAuthorityError.unsafeDirectory(data, .mode(mode)) = error else { return XCTFail("\(error)") }
                XCTAssertTrue("\(error)".contains("chmod 700 \(data)"), "\(error)")
                XCTAssertTrue("\(error)".contains("can \(word)"), "\(error)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: data), [], "nothing written into it")
        XCTAssertEqual(chmod(data, 0o700), 0)
        _ = try CertificateAuthority.loadOrCreate(dataDir: data, hostnames: [])

        let user = geteuid()
        XCTAssertEqual(CertificateAuthority.unsafeDirectoryProblem(owner: user + 1, mode: 0o700, user: user),
                       .owner(uid: user + 1, user: user))
        XCTAssertNil(CertificateAuthority.unsafeDirectoryProblem(owner: user, mode: 0o700 | S_IFDIR, user: user))
        let wrongOwner = CertificateAuthorityError.unsafeDirectory(path: "/d", problem: .owner(uid: 7, user: 0))
        XCTAssertTrue("\(wrongOwner)".contains("chown 0 /d && chmod 700 /d"), "\(wrongOwner)")
    }

    func testReadToken() throws {
        let path = dir + "/tok"
        try Data("  abc123 \n\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try CertificateAuthority.readToken(path: path), "abc123")
        try Data(" \n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try CertificateAuthority.readToken(path: path))
        XCTAssertThrowsError(try CertificateAuthority.readToken(path: dir + "/missing"))
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _identities: [RelayIdentity] = []
    private var _errors: [String] = []
    func append(_ identity: RelayIdentity) { lock.withLock { _identities.append(identity) } }
    func fail(_ message: String) { lock.withLock { _errors.append(message) } }
    var identities: [RelayIdentity] { lock.withLock { _identities } }
    var errors: [String] { lock.withLock { _errors } }
}
