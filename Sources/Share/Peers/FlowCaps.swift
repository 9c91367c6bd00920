/// How many connections to the machine (flows) the agent keeps open: overall, and per connect
/// session, so one peer — or many browsers — cannot take every descriptor the agent has (and
/// leave none for the rest, or for removing the SSH key at the end). A pure count; the agent
/// admits a flow before it dials and releases it when the flow ends.
struct FlowCaps: Equatable {
    let total: Int
    let perSession: Int
    private(set) var open = 0
    private var bySession: [ObjectIdentifier: Int] = [:]

    init(total: Int, perSession: Int) {
        self.total = total
        self.perSession = perSession
    }

    /// Descriptors left for everything else: the relay link, peers' data connections, the SSH
    /// key's removal, files. What the caps are derived from the descriptor limit with.
    static let headroom = 128

    /// Caps for a process allowed `descriptorLimit` descriptors: flows take what the headroom
    /// leaves, and one session at most a quarter of that.
    init(descriptorLimit: Int) {
        let total = max(16, descriptorLimit - Self.headroom)
        self.init(total: total, perSession: max(8, total / 4))
    }

    /// Counts one more flow (of `session`, a connect session, or of the relay's public clients
    /// when nil); false at a cap.
    mutating func admit(session: ObjectIdentifier?) -> Bool {
        guard open < total else { return false }
        if let session {
            let now = bySession[session, default: 0]
            guard now < perSession else { return false }
            bySession[session] = now + 1
        }
        open += 1
        return true
    }

    mutating func release(session: ObjectIdentifier?) {
        guard open > 0 else { return }
        open -= 1
        if let session, let now = bySession[session] { bySession[session] = now > 1 ? now - 1 : nil }
    }
}
