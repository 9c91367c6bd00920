import Foundation
import SSHKeys
import Wire
import XCTest

final class SSHKeyCryptoTests: XCTestCase {
    /// Known answer from OpenSSH itself: `ssh-keygen -y` on the private key we produce prints our public line.
    func testOpenSSHPrivateKeyIsReadByOpenSSH() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-keygen") else {
            throw XCTSkip("ssh-keygen not installed (scripts/install-deps: openssh-client)")
        }
        var key = try Ed25519Key.generate()
        let comment = "vshare-share-test-0123abcd"
        let line = OpenSSHKeyFormat.authorizedKeyLine(publicKey: key.publicKey, comment: comment)
        let pem = OpenSSHKeyFormat.privateKey(seed: key.seed, publicKey: key.publicKey, comment: comment, checkInt: 0x01020304)
        key.wipe()
        XCTAssertEqual(key.seed, [UInt8](repeating: 0, count: 32))
        let directory = try PrivateDirectory(prefix: "vshare-test")
        defer { directory.remove() }
        try directory.write("key", String(decoding: pem, as: UTF8.self))
        let result = try ChildProcess.run("ssh-keygen", ["-y", "-f", directory.path + "/key"])
        XCTAssertTrue(result.ok, result.errorOutput)
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), line)
    }

    /// Fixed seed: the encoding is byte-for-byte stable (public blob and armour layout).
    func testEncodingShape() {
        let seed = [UInt8](repeating: 7, count: 32), publicKey = [UInt8](repeating: 9, count: 32)
        let blob = OpenSSHKeyFormat.publicBlob(publicKey)
        XCTAssertEqual(blob.count, 4 + 11 + 4 + 32)
        XCTAssertEqual(Array(blob[0..<4]), [0, 0, 0, 11])
        let pem = String(decoding: OpenSSHKeyFormat.privateKey(seed: seed, publicKey: publicKey, comment: "c", checkInt: 1), as: UTF8.self)
        let lines = pem.split(separator: "\n")
        XCTAssertEqual(lines.first, "-----BEGIN OPENSSH PRIVATE KEY-----")
        XCTAssertEqual(lines.last, "-----END OPENSSH PRIVATE KEY-----")
        XCTAssertTrue(lines.dropFirst().dropLast().allSatisfy { $0.count <= 70 })
        let body = Data(base64Encoded: lines.dropFirst().dropLast().joined())!
        XCTAssertTrue(body.starts(with: Array("openssh-key-v1".utf8) + [0]))
    }

    func testHostKeyLines() {
        let line = OpenSSHKeyFormat.authorizedKeyLine(publicKey: [UInt8](repeating: 1, count: 32), comment: "root@vm")
        XCTAssertEqual(OpenSSHKeyFormat.hostKey(fromLine: line), String(line.dropLast(" root@vm".count)))
        XCTAssertNil(OpenSSHKeyFormat.hostKey(fromLine: "ssh-rsa " + line.split(separator: " ")[1]))  // type and blob disagree
        XCTAssertNil(OpenSSHKeyFormat.hostKey(fromLine: "garbage"))
    }

    private func fastSeal(_ plain: [UInt8], _ password: String) throws -> SSHKeyBlob {
        try PasswordSealing.seal(plain, password: Array(password.utf8), once: false, logN: 10)
    }

    func testSealOpenRoundTripAndProof() throws {
        let plain = SSHKeyRecord(privateKey: Array("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n".utf8),
                                 hostKeys: ["ssh-ed25519 AAAA"], user: "vagrant", port: 22).encoded()
        let blob = try fastSeal(plain, "hunter2")
        XCTAssertTrue(blob.isWellFormed || blob.kdf.logN == 10)
        var keys = try PasswordSealing.derive(password: Array("hunter2".utf8), params: blob.kdf)
        defer { keys.wipe() }
        XCTAssertEqual(Data(try keys.proof()).base64EncodedString(), blob.verifier)
        XCTAssertEqual(try PasswordSealing.open(blob.sealed, keys: keys), plain)
        let ciphertext = Data(base64Encoded: blob.sealed.ciphertext)!
        XCTAssertNil(ciphertext.range(of: Data("OPENSSH".utf8)))
        XCTAssertNotEqual(Data(base64Encoded: blob.sealed.nonce)!.count, 0)
    }

    func testWrongPasswordFailsBothProofAndDecryption() throws {
        let blob = try fastSeal(Array("secret record".utf8), "right")
        var keys = try PasswordSealing.derive(password: Array("wrong".utf8), params: blob.kdf)
        defer { keys.wipe() }
        XCTAssertNotEqual(Data(try keys.proof()).base64EncodedString(), blob.verifier)
        XCTAssertThrowsError(try PasswordSealing.open(blob.sealed, keys: keys)) { error in
            XCTAssertEqual(error as? CryptoError, .authenticationFailed)
        }
    }

    func testTamperedCiphertextFails() throws {
        var blob = try fastSeal(Array("secret record".utf8), "right")
        var bytes = [UInt8](Data(base64Encoded: blob.sealed.ciphertext)!)
        bytes[0] ^= 1
        blob.sealed.ciphertext = Data(bytes).base64EncodedString()
        var keys = try PasswordSealing.derive(password: Array("right".utf8), params: blob.kdf)
        defer { keys.wipe() }
        XCTAssertThrowsError(try PasswordSealing.open(blob.sealed, keys: keys))
    }

    func testFreshSaltAndNonceEachTime() throws {
        let a = try fastSeal([1, 2, 3], "pw"), b = try fastSeal([1, 2, 3], "pw")
        XCTAssertNotEqual(a.kdf.salt, b.kdf.salt)
        XCTAssertNotEqual(a.sealed.nonce, b.sealed.nonce)
        XCTAssertNotEqual(a.verifier, b.verifier)
    }

    func testDefaultParametersAreStrongAndAccepted() {
        XCTAssertGreaterThanOrEqual(PasswordSealing.defaultLogN, 15)
        let params = SSHKDFParams(logN: PasswordSealing.defaultLogN, r: 8, p: 1, salt: Data(repeating: 1, count: 16).base64EncodedString())
        XCTAssertTrue(params.isAcceptable)
        XCTAssertFalse(SSHKDFParams(logN: 30, r: 8, p: 1, salt: params.salt).isAcceptable)  // a relay cannot make clients spend 128 GiB
    }
}
