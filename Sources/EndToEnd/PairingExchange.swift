import Pairing
import Wire

/// The pairing steps of one data connection, sans I/O: messages in, bytes to send and an outcome
/// out (the shell, `EndToEndHandshake`, reads and writes). The order is fixed (`PairingMessage`):
///
///     peer:  preamble, share(pA)  →
///     agent:                      ←  preamble, share(pB), confirm(cB)
///     peer:  confirm(cA)          →  then TLS 1.3 keyed from Ke
///
/// The peer checks cB before it sends anything keyed, so a wrong code ends there with `wrongCode`;
/// the agent checks cA. An agent that has sent pB and does not get a valid cA counts the attempt as
/// a guess (`countsAsGuess`): it is the one online guess an attacker in the middle gets per run.
final class PairingExchange {
    enum Action: Equatable {
        case send([UInt8])
        /// Pairing done: Ke, the TLS PSK input. Sent bytes must be flushed before TLS starts.
        case established(key: [UInt8])
        case fail(EndToEndErrorKind)
    }

    /// `EndToEndError` without associated text, so actions compare in tests.
    enum EndToEndErrorKind: Equatable {
        case wrongCode
        case refused(String)
        case protocolViolation(String)
        case local(String)
    }

    private enum Step { case idle, awaitingShare, awaitingConfirm(mine: [UInt8]), refusing, done }

    let side: EndToEndSide
    private let ticket: [UInt8]
    private let spake: SPAKE2Session?
    private let refusal: String?
    private var step = Step.idle
    /// The agent has shown its share: from here a failure is a guess at the code.
    private(set) var countsAsGuess = false

    init(side: EndToEndSide, credentials: PairingCredentials, ticket: [UInt8]) throws(PairingError) {
        self.side = side
        self.ticket = ticket
        spake = try credentials.session(side: side, ticket: ticket)
        refusal = nil
    }

    /// An agent that will not pair now: it answers the peer with `refused(reason)` and hangs up.
    init(refusingWith reason: String, ticket: [UInt8]) {
        side = .agent
        self.ticket = ticket
        spake = nil
        refusal = reason
    }

    /// An agent that only says no (`init(refusingWith:ticket:)`).
    var isRefusal: Bool { refusal != nil }

    var isDone: Bool { if case .done = step { return true } else { return false } }

    func start() -> [Action] {
        var first = DataPreamble(side: side, ticket: ticket).encoded()
        if let refusal {
            step = .refusing
            return [.send(first)] + [.send(PairingMessage.refused(refusal).encoded())]
        }
        guard let spake else { return fail(.local("no pairing session")) }
        if side == .peer { first += PairingMessage.share(spake.start()).encoded() }
        step = .awaitingShare
        return [.send(first)]
    }

    func receive(_ message: PairingMessage) -> [Action] {
        guard let spake else { return fail(.protocolViolation("a message after the refusal")) }
        switch (step, message) {
        case (_, .refused(let why)) where side == .peer:
            return fail(.refused(why))
        case (.awaitingShare, .share(let theirs)):
            do {
                if side == .agent {
                    let share = spake.start()
                    let confirmation = try spake.receive(peerShare: theirs)
                    countsAsGuess = true
                    step = .awaitingConfirm(mine: [])
                    return [.send(PairingMessage.share(share).encoded() + PairingMessage.confirm(confirmation).encoded())]
                }
                step = .awaitingConfirm(mine: try spake.receive(peerShare: theirs))
                return []
            } catch {
                return fail(.protocolViolation("\(error)"))
            }
        case (.awaitingConfirm(let mine), .confirm(let theirs)):
            do {
                let key = try spake.finish(peerConfirmation: theirs)
                step = .done
                return side == .peer ? [.send(PairingMessage.confirm(mine).encoded()), .established(key: key)]
                                     : [.established(key: key)]
            } catch PairingError.codeMismatch {
                return fail(.wrongCode)
            } catch {
                return fail(.protocolViolation("\(error)"))
            }
        default:
            return fail(.protocolViolation("unexpected pairing message"))
        }
    }

    private func fail(_ kind: EndToEndErrorKind) -> [Action] {
        step = .done
        return [.fail(kind)]
    }
}
