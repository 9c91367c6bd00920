import Foundation
import XCTest
@testable import Wire

final class ControlMessageTests: XCTestCase {
    private let kdf = SSHKDFParams(logN: 15, r: 8, p: 1, salt: "c2FsdHNhbHRzYWx0c2FsdA==")
    private let sealed = SSHSealedKey(nonce: "bm9uY2Vub25jZW5v", ciphertext: "AAAA")

    /// One of every message, in both directions where a kind has two shapes.
    private var everyMessage: [ControlMessage] {
        let blob = SSHKeyBlob(kdf: kdf, verifier: "dmVyaWZpZXI=", sealed: sealed, once: false)
        return [
            .createShare(CreateShare(token: "tok", httpEnabled: true, httpsEnabled: false)),
            .createShare(CreateShare(token: "tok", httpEnabled: false, httpsEnabled: true,
                                     resume: .init(name: "happy-cat", secret: "s3cret"), ssh: blob)),
            .shareCreated(ShareCreated(name: "happy-cat", resumeSecret: "s3cret", url: "http://happy-cat.example",
                                       httpsAddress: "https://happy-cat.example:8443", expiresIn: 3600)),
            .shareCreated(ShareCreated(name: "happy-cat", resumeSecret: "s3cret", url: nil, httpsAddress: nil, expiresIn: 1)),
            .endShare,
            .shareEnded(ShareEnded(reason: .ended)),
            .shareEnded(ShareEnded(reason: .expired)),
            .shareEnded(ShareEnded(reason: .abandoned)),
            .shareEnded(ShareEnded(reason: .expiredFromWeb)),
            .error(ControlError(.agentUnavailable, "later")),
            .createShare(CreateShare(token: "tok", httpEnabled: true, httpsEnabled: false, connect: false)),
            .createShare(CreateShare(token: "tok", httpEnabled: true, httpsEnabled: false,
                                     basicAuth: BasicAuthVerifier(user: "alice", kdf: kdf, hash: "aGFzaA=="),
                                     allowIP: [try! IPNetwork(parsing: "10.0.0.0/8"), try! IPNetwork(parsing: "2001:db8::/32")])),
            .openSession(OpenSession(name: "happy-cat")),
            .openSession(OpenSession(name: "happy-cat", ssh: true)),
            .sessionOpened(SessionOpened(name: "happy-cat", session: 7, expiresIn: 60, ticket: "00ff")),
            .sessionOpened(SessionOpened(name: "happy-cat", session: 7, expiresIn: 60)),
            .peerJoined(PeerJoined(session: 7, client: "10.0.0.9", ticket: "00ff")),
            .peerJoined(PeerJoined(session: 8, client: nil, ticket: "ab")),
            .sshParamsRequest(SSHParamsRequest(name: "happy-cat")),
            .sshParams(SSHParams(name: "happy-cat", kdf: kdf)),
            .sshKeyRequest(SSHKeyRequest(name: "happy-cat", proof: "cHJvb2Y=")),
            .sshKey(SSHKeyRelease(name: "happy-cat", sealed: sealed)),
            .sshKeyReleased,
            .leaving,
        ]
    }

    private func json(_ message: ControlMessage) -> String {
        String(decoding: message.encoded(), as: UTF8.self)
    }

    private func decode(_ text: String) throws(ControlMessageError) -> ControlMessage {
        try ControlMessage.decode(Array(text.utf8))
    }

    func testEveryMessageRoundTrips() throws {
        for message in everyMessage {
            XCTAssertEqual(try decode(json(message)), message, json(message))
        }
    }

    func testEveryKindIsCovered() {
        XCTAssertEqual(Set(everyMessage.map(\.kind)), Set(ControlMessage.Kind.allCases))
    }

    func testEveryErrorCodeAndEndReasonRoundTrips() throws {
        for code in ControlError.Code.allCases {
            XCTAssertEqual(try decode(json(.error(ControlError(code, "why")))), .error(ControlError(code, "why")))
        }
        for reason in ShareEndReason.allCases {
            XCTAssertEqual(json(.shareEnded(ShareEnded(reason: reason))), #"{"kind":"shareEnded","reason":"\#(reason.rawValue)"}"#)
        }
    }

    // The exact bytes on the wire (docs/PROTOCOL.md).

    func testCreateShareIsAFlatObject() {
        let message = ControlMessage.createShare(CreateShare(token: "tok", httpEnabled: true, httpsEnabled: false,
                                                             resume: .init(name: "happy-cat", secret: "s3cret")))
        XCTAssertEqual(json(message),
                       #"{"connect":true,"httpEnabled":true,"httpsEnabled":false,"kind":"createShare","name":"happy-cat","resumeSecret":"s3cret","token":"tok"}"#)
    }

    func testSessionMessagesCarryTheTicket() {
        XCTAssertEqual(json(.sessionOpened(SessionOpened(name: "n", session: 3, expiresIn: 5, ticket: "0a"))),
                       #"{"expiresIn":5,"kind":"sessionOpened","name":"n","session":3,"ticket":"0a"}"#)
        XCTAssertEqual(json(.peerJoined(PeerJoined(session: 3, client: "10.0.0.9", ticket: "0a"))),
                       #"{"client":"10.0.0.9","kind":"peerJoined","session":3,"ticket":"0a"}"#)
    }

    func testShareCreatedAndErrorAreTheFlatObjectsOfBefore() {
        let created = ControlMessage.shareCreated(ShareCreated(name: "happy-cat", resumeSecret: "s", url: "http://happy-cat.example",
                                                               httpsAddress: nil, expiresIn: 3600))
        XCTAssertEqual(json(created), #"{"expiresIn":3600,"kind":"shareCreated","name":"happy-cat","resumeSecret":"s","url":"http:\/\/happy-cat.example"}"#)
        XCTAssertEqual(json(.error(ControlError(.notFound, "no such share"))),
                       #"{"errorCode":"notFound","kind":"error","reason":"no such share"}"#)
        XCTAssertEqual(json(.endShare), #"{"kind":"endShare"}"#)
        XCTAssertEqual(json(.leaving), #"{"kind":"leaving"}"#)
    }

    func testShapesByDirection() throws {
        XCTAssertEqual(try decode(#"{"kind":"sessionOpened","session":3,"name":"n","expiresIn":5}"#),
                       .sessionOpened(SessionOpened(name: "n", session: 3, expiresIn: 5)))
        XCTAssertEqual(try decode(#"{"kind":"sshKey","name":"n","sshProof":"cHJvb2Y="}"#),
                       .sshKeyRequest(SSHKeyRequest(name: "n", proof: "cHJvb2Y=")))
        XCTAssertEqual(json(.sshParams(SSHParams(name: "n", kdf: kdf))),
                       #"{"kind":"sshParams","name":"n","sshKDF":{"kdf":"scrypt","logN":15,"p":1,"r":8,"salt":"c2FsdHNhbHRzYWx0c2FsdA=="}}"#)
    }

    func testUnknownFieldsAreIgnoredAndDefaultsApply() throws {
        // A createShare without `connect` offers no connect sessions.
        XCTAssertEqual(try decode(#"{"kind":"createShare","token":"t","future":[1,2]}"#),
                       .createShare(CreateShare(token: "t", httpEnabled: true, httpsEnabled: false, connect: false)))
        // Half a resume is no resume.
        XCTAssertEqual(try decode(#"{"kind":"createShare","token":"t","name":"happy-cat","connect":true}"#),
                       .createShare(CreateShare(token: "t", httpEnabled: true, httpsEnabled: false)))
    }

    func testUnknownKindIsAnErrorThatNamesIt() {
        XCTAssertThrowsError(try decode(#"{"kind":"teleport","name":"x"}"#)) { error in
            XCTAssertEqual(error as? ControlMessageError, .unknownKind("teleport"))
        }
    }

    func testAccessRulesTravelAsOptionalFields() throws {
        let message = ControlMessage.createShare(CreateShare(token: "t", httpEnabled: true, httpsEnabled: false, connect: false,
                                                             allowIP: [try IPNetwork(parsing: "192.0.2.7")]))
        XCTAssertEqual(json(message), #"{"allowIP":["192.0.2.7\/32"],"connect":false,"httpEnabled":true,"httpsEnabled":false,"kind":"createShare","token":"t"}"#)
        // Absent: no rules (an agent from before them).
        guard case .createShare(let plain) = try decode(#"{"kind":"createShare","token":"t"}"#) else { return XCTFail() }
        XCTAssertNil(plain.basicAuth)
        XCTAssertNil(plain.allowIP)
        XCTAssertThrowsError(try decode(#"{"kind":"createShare","token":"t","allowIP":["10.0.0.0/40"]}"#)) { error in
            XCTAssertEqual(error as? ControlMessageError, .badField("allowIP"))
        }
        XCTAssertThrowsError(try decode(#"{"kind":"createShare","token":"t","basicAuth":{"user":"a"}}"#)) { error in
            XCTAssertEqual(error as? ControlMessageError, .missingField("kdf"))
        }
    }

    func testMissingOrWrongFieldsAreErrors() {
        XCTAssertThrowsError(try decode(#"{"kind":"peerJoined","session":1}"#)) { error in
            XCTAssertEqual(error as? ControlMessageError, .missingField("ticket"))
        }
        XCTAssertThrowsError(try decode(#"{"name":"x"}"#)) { error in
            XCTAssertEqual(error as? ControlMessageError, .missingField("kind"))
        }
        XCTAssertThrowsError(try decode(#"{"kind":"peerJoined","session":"seven","ticket":"00"}"#)) { error in
            XCTAssertEqual(error as? ControlMessageError, .badField("session"))
        }
        XCTAssertThrowsError(try decode(#"{"kind":"shareEnded","reason":"bored"}"#)) { error in
            XCTAssertEqual(error as? ControlMessageError, .badField("reason"))
        }
        XCTAssertThrowsError(try decode(#"{"kind":"error","errorCode":"nope","reason":"x"}"#)) { error in
            XCTAssertEqual(error as? ControlMessageError, .badField("errorCode"))
        }
        XCTAssertThrowsError(try decode("not json")) { error in
            XCTAssertEqual(error as? ControlMessageError, .notJSON)
        }
        XCTAssertThrowsError(try decode("[1]")) { error in
            XCTAssertEqual(error as? ControlMessageError, .notJSON)
        }
    }
}
