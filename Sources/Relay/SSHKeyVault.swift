import Console
import Foundation
import Transport
import Wire

/// The relay's part of SSH sharing. A share started with `--ssh` uploads an `SSHKeyBlob`; the relay
/// keeps it with the share entry (it is dropped with the entry: end, expiry, abandonment) and
/// answers two CONTROL requests on a connect-role connection:
/// - `sshParams{name}` → `sshParams{sshKDF}`: the salt and scrypt parameters, to anyone who knows the name
///   (an unknown name counts against the `GuessLimiter` like an HTTP 404);
/// - `sshKey{name, sshProof}` → `sshKey{sshSealed}` when the proof equals the verifier (constant-time),
///   else `error/wrongPassword`. Wrong proofs are counted per client address and per share; past the
///   limits the relay answers `tooManyRequests` without comparing.
/// The relay never sees the password or the plain key, and a guesser never gets the ciphertext to
/// attack offline.
enum SSHKeyVault {
    enum Lookup<Value> {
        case found(Value)
        case notFound
        case noSSH
        case wrongProof
    }

    static func matches(proof: [UInt8], verifier: String) -> Bool {
        guard let stored = Data(base64Encoded: verifier) else { return false }
        return constantTimeEqual(proof, [UInt8](stored))
    }

    /// Throttles wrong proofs: per client address (slows after 3 in 10 minutes, refuses the address
    /// for 15 minutes after 10) and per share (slows after 10, refuses every client of that share
    /// for 15 minutes after 30: an online guesser gets at most 30 tries per share per quarter hour,
    /// at the price that the rightful user is locked out meanwhile).
    final class ProofLimiter: @unchecked Sendable {
        let perAddress: GuessLimiter
        let perShare: GuessLimiter

        init() {
            perAddress = GuessLimiter(limits: .init(freeMisses: 3, refuseAfter: 10, window: 600, refusal: 900, baseDelay: 0.5))
            perShare = GuessLimiter(limits: .init(freeMisses: 10, refuseAfter: 30, window: 600, refusal: 900, baseDelay: 0.5))
        }

        func isRefused(client: String, share: String) -> Bool {
            perAddress.isRefused(client) || perShare.isRefused(share)
        }

        func recordWrong(client: String, share: String) -> GuessLimiter.Verdict {
            let a = perAddress.recordMiss(client), b = perShare.recordMiss(share)
            switch (a, b) {
            case (.refuse, _), (_, .refuse): return .refuse
            case (.delay(let x), .delay(let y)): return .delay(max(x, y))
            case (.delay(let x), _), (_, .delay(let x)): return .delay(x)
            default: return .allow
            }
        }
    }
}

extension ConnectSession {
    static let maxSSHRequests = 4

    /// `sshParams` and `sshKey` (before any `openSession`): answered from the registry under its
    /// lock, on this connection's loop (no move to the share's loop: nothing of the agent is touched).
    func askedForSSHParams(_ request: SSHParamsRequest) {
        guard countSSHRequest() else { return }
        let name = request.name
        switch relay.registry.sshParams(name) {
        case .found(let params):
            tunnel.sendControl(ControlMessage.sshParams(SSHParams(name: name, kdf: params)).encoded())
        case .noSSH: noSSH(name)
        case .notFound, .wrongProof: unknownName(name)
        }
    }

    func askedForSSHKey(_ request: SSHKeyRequest) {
        guard countSSHRequest() else { return }
        let name = request.name
        if relay.proofLimiter.isRefused(client: clientIP, share: name) {
            return refuse(.tooManyRequests, "too many wrong passwords for this share or from \(clientIP); try again in 15 minutes")
        }
        guard let proof = Data(base64Encoded: request.proof) else {
            return refuse(.badRequest, "sshKey needs a base64 sshProof")
        }
        switch relay.registry.releaseSSHKey(name, proof: [UInt8](proof)) {
        case .found(let (sealed, onceAgent)):
            Console.headline("relay", "Released the SSH key of share \(name) to \(clientIP).")
            relay.store?.sshEvent(share: name, client: clientIP, kind: .keyReleased)
            if let (agent, loop) = onceAgent {
                // The agent lives on the share's loop; tell it there.
                loop.execute { agent.sshKeyWasReleased() }
            }
            tunnel.sendControl(ControlMessage.sshKey(SSHKeyRelease(name: name, sealed: sealed)).encoded())
        case .noSSH: noSSH(name)
        case .notFound: unknownName(name)
        case .wrongProof:
            let verdict = relay.proofLimiter.recordWrong(client: clientIP, share: name)
            Console.headline("relay", "Wrong SSH key password for share \(name) from \(clientIP).")
            relay.store?.sshEvent(share: name, client: clientIP, kind: .proofRefused)
            let answer: () -> Void = { [weak self] in
                self?.refuse(.wrongPassword, "wrong password for the SSH key of share '\(name)'")
            }
            switch verdict {
            case .allow: answer()
            case .delay(let seconds): tunnel.loop.schedule(after: seconds, answer)
            case .refuse: refuse(.tooManyRequests, "too many wrong passwords for this share or from \(clientIP); try again in 15 minutes")
            }
        }
    }

    /// A client needs two requests; more on one connection is refused.
    private func countSSHRequest() -> Bool {
        sshRequests += 1
        guard sshRequests <= Self.maxSSHRequests else {
            refuse(.badRequest, "too many SSH key requests on one connection")
            return false
        }
        return true
    }

    private func noSSH(_ name: String) {
        refuse(.noSSH, "share '\(name)' does not offer SSH (the sharer did not start it with `vshare share --ssh`, or its --ssh-once key was already used)")
    }

    /// Unknown names count against the guess limiter exactly like HTTP 404s.
    private func unknownName(_ name: String) {
        switch relay.limiter.recordMiss(clientIP) {
        case .allow: notFound(name)
        case .delay(let seconds): tunnel.loop.schedule(after: seconds) { [weak self] in self?.notFound(name) }
        case .refuse:
            Console.throttledHeadline("relay", "Refused \(clientIP): too many requests for unknown shares.")
            refuse(.tooManyRequests, "too many requests for unknown shares from \(clientIP); try again later")
        }
    }
}
