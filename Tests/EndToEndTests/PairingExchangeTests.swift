import XCTest
import Pairing
import Wire
@testable import EndToEnd

/// Drives a peer's and an agent's exchange against each other with no sockets: bytes out of one
/// are parsed into messages for the other, as the shell would.
final class PairingExchangeTests: XCTestCase {
    private let ticket = [UInt8](repeating: 9, count: DataPreamble.ticketLength)
    private static let right = try! PairingCredentials(code: "7-orbit-canvas-mango", shareName: "frosty-weasel-0857")
    private static let wrong = try! PairingCredentials(code: "7-orbit-canvas-mango", shareName: "other-share-0001")
    private static let typo = try! PairingCredentials(code: "8-orbit-canvas-mango", shareName: "frosty-weasel-0857")

    /// Messages in `bytes` (skipping a leading preamble).
    private func messages(_ actions: [PairingExchange.Action], preamble: Bool = false) throws -> [PairingMessage] {
        var bytes: [UInt8] = []
        for case .send(let chunk) in actions { bytes += chunk }
        if preamble {
            XCTAssertNoThrow(try DataPreamble.parse(bytes.prefix(DataPreamble.size)))
            bytes.removeFirst(DataPreamble.size)
        }
        var out: [PairingMessage] = []
        while !bytes.isEmpty {
            let header = Array(bytes.prefix(PairingMessage.headerSize))
            let length = try PairingMessage.bodyLength(header: header)
            out.append(try PairingMessage.decode(header: header, body: Array(bytes[3..<(3 + length)])))
            bytes.removeFirst(3 + length)
        }
        return out
    }

    private func keys(_ actions: [PairingExchange.Action]) -> [[UInt8]] {
        actions.compactMap { if case .established(let key) = $0 { return key } else { return nil } }
    }

    private func failures(_ actions: [PairingExchange.Action]) -> [PairingExchange.EndToEndErrorKind] {
        actions.compactMap { if case .fail(let kind) = $0 { return kind } else { return nil } }
    }

    /// Runs both ends; returns what each ended with.
    private func run(peer peerCredentials: PairingCredentials, agent agentCredentials: PairingCredentials) throws
        -> (peer: [PairingExchange.Action], agent: [PairingExchange.Action], agentGuess: Bool) {
        let peer = try PairingExchange(side: .peer, credentials: peerCredentials, ticket: ticket)
        let agent = try PairingExchange(side: .agent, credentials: agentCredentials, ticket: ticket)
        let pA = try messages(peer.start(), preamble: true)
        _ = try messages(agent.start(), preamble: true)
        XCTAssertEqual(pA.count, 1)
        let agentAnswer = agent.receive(pA[0])
        let answer = try messages(agentAnswer)
        XCTAssertEqual(answer.count, 2)   // share(pB), confirm(cB)
        XCTAssertTrue(agent.countsAsGuess)
        var peerActions = peer.receive(answer[0])
        XCTAssertEqual(peerActions, [])
        peerActions = peer.receive(answer[1])
        var agentActions: [PairingExchange.Action] = []
        for message in try messages(peerActions) { agentActions += agent.receive(message) }
        return (peerActions, agentActions, agent.countsAsGuess)
    }

    func testTheSameCodeGivesBothTheSameKey() throws {
        let (peer, agent, _) = try run(peer: Self.right, agent: Self.right)
        XCTAssertEqual(keys(peer).count, 1)
        XCTAssertEqual(keys(peer), keys(agent))
        XCTAssertEqual(keys(peer).first?.count, 16)
    }

    /// The peer learns it from cB before it sends anything keyed; the agent never gets cA.
    func testAWrongCodeFailsAtThePeerFirst() throws {
        let (peer, agent, guess) = try run(peer: Self.typo, agent: Self.right)
        XCTAssertEqual(failures(peer), [.wrongCode])
        XCTAssertEqual(agent, [])
        XCTAssertTrue(guess, "the agent showed its share: the attempt counts as a guess")
    }

    func testTheShareNameIsBoundIntoTheSecret() throws {
        let (peer, _, _) = try run(peer: Self.wrong, agent: Self.right)
        XCTAssertEqual(failures(peer), [.wrongCode])
    }

    /// A peer in the middle that fakes cA (e.g. a relay guessing) is caught by the agent.
    func testTheAgentRejectsABadConfirmation() throws {
        let peer = try PairingExchange(side: .peer, credentials: Self.typo, ticket: ticket)
        let agent = try PairingExchange(side: .agent, credentials: Self.right, ticket: ticket)
        _ = agent.start()
        let pA = try messages(peer.start(), preamble: true)
        _ = agent.receive(pA[0])
        XCTAssertEqual(failures(agent.receive(.confirm([UInt8](repeating: 0, count: 32)))), [.wrongCode])
    }

    func testARefusingAgentSaysWhyAndThePeerStops() throws {
        let agent = PairingExchange(refusingWith: "too many wrong connect codes", ticket: ticket)
        XCTAssertTrue(agent.isRefusal)
        let said = try messages(agent.start(), preamble: true)
        XCTAssertEqual(said, [.refused("too many wrong connect codes")])
        let peer = try PairingExchange(side: .peer, credentials: Self.right, ticket: ticket)
        _ = peer.start()
        XCTAssertEqual(failures(peer.receive(said[0])), [.refused("too many wrong connect codes")])
    }

    func testMessagesOutOfOrderAreProtocolViolations() throws {
        let peer = try PairingExchange(side: .peer, credentials: Self.right, ticket: ticket)
        _ = peer.start()
        guard case .protocolViolation? = failures(peer.receive(.confirm([UInt8](repeating: 1, count: 32)))).first else {
            return XCTFail("a confirmation before the share is a violation")
        }
        let agent = try PairingExchange(side: .agent, credentials: Self.right, ticket: ticket)
        _ = agent.start()
        guard case .protocolViolation? = failures(agent.receive(.share([1, 2, 3]))).first else {
            return XCTFail("a share that is not a point is a violation")
        }
        XCTAssertFalse(agent.countsAsGuess, "nothing was shown: no guess")
    }
}
