import Foundation
import XCTest
@testable import Share

/// The authorized_keys rewrite runs on the machine through ssh; here it runs under the local `sh`
/// with HOME in a temp directory, and with commands on PATH that fail the way a full disk or a
/// killed process would.
final class MachineSSHTests: XCTestCase {
    private var home: URL!
    private var fakes: URL!
    private let comment = "vshare-share-m-0123abcd"
    private var keys: URL { home.appendingPathComponent(".ssh/authorized_keys") }
    private lazy var original = "ssh-ed25519 AAAA owner\nrestrict ssh-ed25519 BBBB \(comment)\nssh-rsa CCCC other"

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("machine-ssh-\(UUID().uuidString)")
        fakes = home.appendingPathComponent("fakes")
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".ssh"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: fakes, withIntermediateDirectories: true)
        try original.write(to: keys, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: keys.path)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: home)
    }

    /// A command on PATH ahead of the real one.
    private func fake(_ name: String, _ body: String) throws {
        let path = fakes.appendingPathComponent(name)
        try "#!/bin/sh\n\(body)\n".write(to: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path.path)
    }

    @discardableResult
    private func rewrite(replacing line: String? = nil, expectOK: Bool = true) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", MachineSSH.rewriteScript(comment: comment, replacing: line != nil)]
        process.environment = ["HOME": home.path, "PATH": fakes.path + ":/usr/bin:/bin"]
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(((line.map { $0 + "\n" }) ?? "").utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus == 0, expectOK, message)
        return message
    }

    private var contents: String { (try? String(contentsOf: keys, encoding: .utf8)) ?? "<missing>" }
    private var leftovers: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: keys.deletingLastPathComponent().path)) ?? [])
            .filter { $0 != "authorized_keys" }
    }

    func testRemovalDropsOnlyTheSharesLineAndKeepsTheMode() throws {
        try rewrite()
        XCTAssertEqual(contents, "ssh-ed25519 AAAA owner\nssh-rsa CCCC other\n")
        let mode = try FileManager.default.attributesOfItem(atPath: keys.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o640)
        XCTAssertEqual(leftovers, [])
        try rewrite()   // idempotent: nothing left to remove
        XCTAssertEqual(contents, "ssh-ed25519 AAAA owner\nssh-rsa CCCC other\n")
    }

    func testReplacingPutsTheNewLineInPlaceOfTheOld() throws {
        try rewrite(replacing: "expiry-time=\"20300101000000Z\" ssh-ed25519 BBBB \(comment)")
        XCTAssertEqual(contents, "ssh-ed25519 AAAA owner\nssh-rsa CCCC other\nexpiry-time=\"20300101000000Z\" ssh-ed25519 BBBB \(comment)\n")
        try rewrite()
        try rewrite(replacing: "ssh-ed25519 BBBB \(comment)")
        XCTAssertEqual(contents, "ssh-ed25519 AAAA owner\nssh-rsa CCCC other\n", "a removed key is never put back")
    }

    /// Whatever step fails, the original stays as it was and no temp file is left.
    func testAFailedStepLeavesTheOriginal() throws {
        let failures: [(String, String)] = [
            ("sync", "exit 1"),                                             // fsync refused (I/O error)
            ("mv", "exit 1"),                                               // the rename failed
            ("chmod", "exit 1"),
            ("grep", "case \"$1\" in -v) /bin/grep \"$@\" | head -n 1; exit 0;; esac; exec /bin/grep \"$@\""),   // a short copy
            ("grep", "case \"$1\" in -v) exit 2;; esac; exec /bin/grep \"$@\""),   // a read error
        ]
        for (command, body) in failures {
            try fake(command, body)
            let message = try rewrite(expectOK: false)
            XCTAssertTrue(message.contains("is unchanged"), "\(command): \(message)")
            XCTAssertEqual(contents, original, "\(command) failing must not touch the file")
            XCTAssertEqual(leftovers, [], command)
            try FileManager.default.removeItem(at: fakes.appendingPathComponent(command))
        }
        try rewrite()
        XCTAssertEqual(contents, "ssh-ed25519 AAAA owner\nssh-rsa CCCC other\n")
    }
}
