@testable import Pairing
import XCTest

final class SPAKE2Tests: XCTestCase {
    /// RFC 9382 Appendix B, all four P-256 vectors: shares, K, TT, Ke, Ka, KcA, KcB and both
    /// confirmations, byte for byte, as computed by each side.
    func testRFC9382Vectors() throws {
        for vector in RFC9382Vector.all {
            let password = try SPAKE2Password(w: bytes(hex: vector.w))
            let a = try SPAKE2Session(role: .a, identity: Array(vector.identityA.utf8),
                                      peerIdentity: Array(vector.identityB.utf8), password: password,
                                      scalar: bytes(hex: vector.x))
            let b = try SPAKE2Session(role: .b, identity: Array(vector.identityB.utf8),
                                      peerIdentity: Array(vector.identityA.utf8), password: password,
                                      scalar: bytes(hex: vector.y))
            let pA = a.start(), pB = b.start()
            XCTAssertEqual(pA, bytes(hex: vector.pA), "pA, \(vector.name)")
            XCTAssertEqual(pB, bytes(hex: vector.pB), "pB, \(vector.name)")
            let confirmationA = try a.receive(peerShare: pB)
            let confirmationB = try b.receive(peerShare: pA)
            XCTAssertEqual(confirmationA, bytes(hex: vector.confirmationA), "A conf, \(vector.name)")
            XCTAssertEqual(confirmationB, bytes(hex: vector.confirmationB), "B conf, \(vector.name)")
            for (side, session) in [("A", a), ("B", b)] {
                let schedule = try XCTUnwrap(session.keySchedule)
                let context = "\(side), \(vector.name)"
                XCTAssertEqual(schedule.sharedPoint, bytes(hex: vector.k), "K, \(context)")
                XCTAssertEqual(schedule.transcript, bytes(hex: vector.tt), "TT, \(context)")
                XCTAssertEqual(schedule.ke, bytes(hex: vector.ke), "Ke, \(context)")
                XCTAssertEqual(schedule.ka, bytes(hex: vector.ka), "Ka, \(context)")
                XCTAssertEqual(schedule.kcA, bytes(hex: vector.kcA), "KcA, \(context)")
                XCTAssertEqual(schedule.kcB, bytes(hex: vector.kcB), "KcB, \(context)")
            }
            XCTAssertEqual(try a.finish(peerConfirmation: confirmationB), bytes(hex: vector.ke), vector.name)
            XCTAssertEqual(try b.finish(peerConfirmation: confirmationA), bytes(hex: vector.ke), vector.name)
        }
    }

    func testSameCodeAgreesOnKe() throws {
        let (a, b) = try sessions(codeA: "417-crimson-otter", codeB: "417-crimson-otter")
        let (keyA, keyB) = try exchange(a, b)
        XCTAssertEqual(keyA, keyB)
        XCTAssertEqual(keyA.count, 16)
        // Fresh scalars each run: a second pairing with the same code gets another key.
        let (c, d) = try sessions(codeA: "417-crimson-otter", codeB: "417-crimson-otter")
        XCTAssertNotEqual(try exchange(c, d).0, keyA)
    }

    func testWrongCodeFailsAtFinishOnBothSides() throws {
        let (a, b) = try sessions(codeA: "417-crimson-otter", codeB: "417-crimson-oyster")
        let shareA = a.start(), shareB = b.start()
        let confirmationA = try a.receive(peerShare: shareB)
        let confirmationB = try b.receive(peerShare: shareA)
        for (session, confirmation) in [(a, confirmationB), (b, confirmationA)] {
            XCTAssertThrowsError(try session.finish(peerConfirmation: confirmation)) { error in
                XCTAssertEqual(error as? PairingError, .codeMismatch)
                XCTAssertTrue("\(error)".contains("the connect code did not match"))
            }
        }
    }

    func testInvalidSharesAreRejected() throws {
        let password = try SPAKE2Password.derive(code: "417-crimson-otter", identityA: idA, identityB: idB)
        let curve = try P256()
        let w = try curve.scalar(bigEndian: password.bytes)
        let validCompressedM = bytes(hex: P256.mCompressed)
        var offCurve = curve.encode(try curve.multiplyGenerator(by: w))
        offCurve[64] ^= 1
        let coordinatesAboveP = [0x04] + [UInt8](repeating: 0xff, count: 64)
        // A valid point that is exactly w·N: Y − w·N is infinity, so K would be too.
        let wN = curve.encode(try curve.multiply(curve.n, by: w))
        let shares: [(String, [UInt8])] = [
            ("empty", []), ("infinity", [0x00]), ("compressed", validCompressedM),
            ("truncated", Array(offCurve.prefix(64))), ("65 zero bytes", [UInt8](repeating: 0, count: 65)),
            ("off the curve", offCurve), ("coordinates above p", coordinatesAboveP), ("w·N", wN),
        ]
        for (name, share) in shares {
            let a = try SPAKE2Session(role: .a, identity: idA, peerIdentity: idB, password: password)
            _ = a.start()
            XCTAssertThrowsError(try a.receive(peerShare: share), name) { error in
                guard case .invalidShare = error as? PairingError else { return XCTFail("\(name): \(error)") }
            }
            // The session is over: nothing more can be drawn from it.
            XCTAssertThrowsError(try a.finish(peerConfirmation: [UInt8](repeating: 0, count: 32)), name) { error in
                guard case .outOfOrder = error as? PairingError else { return XCTFail("\(name): \(error)") }
            }
        }
    }

    func testTamperedConfirmationIsRejected() throws {
        let (a, b) = try sessions(codeA: "417-crimson-otter", codeB: "417-crimson-otter")
        let shareA = a.start(), shareB = b.start()
        _ = try a.receive(peerShare: shareB)
        var confirmationB = try b.receive(peerShare: shareA)
        confirmationB[31] ^= 0x80
        XCTAssertThrowsError(try a.finish(peerConfirmation: confirmationB)) { error in
            XCTAssertEqual(error as? PairingError, .codeMismatch)
        }

        let (c, d) = try sessions(codeA: "417-crimson-otter", codeB: "417-crimson-otter")
        let shareC = c.start(), shareD = d.start()
        _ = try c.receive(peerShare: shareD)
        let confirmationD = try d.receive(peerShare: shareC)
        XCTAssertThrowsError(try c.finish(peerConfirmation: Array(confirmationD.prefix(16)))) { error in
            XCTAssertEqual(error as? PairingError, .malformedConfirmation(count: 16))
        }
    }

    func testStepsOutOfOrderAreRefused() throws {
        let (a, b) = try sessions(codeA: "417-crimson-otter", codeB: "417-crimson-otter")
        XCTAssertThrowsError(try a.receive(peerShare: b.start())) { error in
            guard case .outOfOrder = error as? PairingError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try b.finish(peerConfirmation: [UInt8](repeating: 0, count: 32))) { error in
            guard case .outOfOrder = error as? PairingError else { return XCTFail("\(error)") }
        }
    }

    func testSecretsAreWipedWhenFinished() throws {
        let (a, b) = try sessions(codeA: "417-crimson-otter", codeB: "417-crimson-otter")
        let shareA = a.start(), shareB = b.start()
        _ = try a.receive(peerShare: shareB)
        let confirmationB = try b.receive(peerShare: shareA)
        let schedule = try XCTUnwrap(a.keySchedule)
        let key = try a.finish(peerConfirmation: confirmationB)
        XCTAssertNotEqual(key, [UInt8](repeating: 0, count: 16))
        XCTAssertNil(a.keySchedule)
        for secret in [schedule.ke, schedule.ka, schedule.kcA, schedule.kcB, schedule.sharedPoint, schedule.transcript] {
            XCTAssertTrue(secret.allSatisfy { $0 == 0 })
        }
    }

    func testPasswordDerivationIsDeterministicAndBoundToIdentities() throws {
        func w(_ code: String, _ a: [UInt8], _ b: [UInt8]) throws -> [UInt8] {
            try SPAKE2Password.derive(code: code, identityA: a, identityB: b).bytes
        }
        let w1 = try w("417-crimson-otter", idA, idB)
        XCTAssertEqual(w1, try w("417-crimson-otter", idA, idB))
        XCTAssertNotEqual(w1, try w("417-crimson-otter", idB, idA))
        XCTAssertNotEqual(w1, try w("417-crimson-oyster", idA, idB))
        XCTAssertEqual(w1.count, 32)
    }

    func testGivenWMustBeAScalar() {
        let order = bytes(hex: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
        for w in [[], [0], order, [UInt8](repeating: 1, count: 33)] {
            XCTAssertThrowsError(try SPAKE2Password(w: w)) { error in
                guard case .invalidPassword = error as? PairingError else { return XCTFail("\(error)") }
            }
        }
    }

    // MARK: Helpers

    private let idA = Array("vshare-peer".utf8)
    private let idB = Array("vshare-share-agent".utf8)

    private func sessions(codeA: String, codeB: String) throws -> (SPAKE2Session, SPAKE2Session) {
        let a = try SPAKE2Session(role: .a, identity: idA, peerIdentity: idB,
                                  password: SPAKE2Password.derive(code: codeA, identityA: idA, identityB: idB))
        let b = try SPAKE2Session(role: .b, identity: idB, peerIdentity: idA,
                                  password: SPAKE2Password.derive(code: codeB, identityA: idA, identityB: idB))
        return (a, b)
    }

    private func exchange(_ a: SPAKE2Session, _ b: SPAKE2Session) throws -> ([UInt8], [UInt8]) {
        let shareA = a.start(), shareB = b.start()
        let confirmationA = try a.receive(peerShare: shareB)
        let confirmationB = try b.receive(peerShare: shareA)
        return (try a.finish(peerConfirmation: confirmationB), try b.finish(peerConfirmation: confirmationA))
    }
}
