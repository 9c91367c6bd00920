import Console
import EndToEnd
import Transport
import Wire

/// Connect peers: the code the share prints, meeting each peer the relay announces (a data
/// connection, SPAKE2 over the code, TLS 1.3 — `EndToEndHandshake`), counting failed attempts
/// (`ConnectGuard`), and the streams peers open inside their sessions (`ConnectScope`).
extension ShareAgent {
    /// Pairings (data connection + SPAKE2, before TLS) under way at once.
    static let maxPairingsInFlight = 32

    /// The code and the command a peer runs; w for the share's name is derived here, once.
    func announceConnect(name: String) {
        let machine = config.machineName
        guard let connectCode else {
            credentials = nil
            return Console.detail(machine, "Connect is off (--no-connect): the name gives the URL only.")
        }
        do {
            credentials = try PairingCredentials(code: connectCode, shareName: name)
        } catch {
            credentials = nil
            return Console.error("error: connect is unavailable for this share: \(error)")
        }
        Console.headline(machine, "Connect code: \(connectCode)")
        Console.headline(machine, "Connect: vshare connect \(TerminalText.sanitized(name)) --code \(connectCode)")
        Console.detail(machine, scope.summary)
    }

    /// The relay announced a peer with its ticket: meet it on a data connection and pair.
    func pair(with peer: PeerJoined) {
        let id = peer.session
        let client = TerminalText.sanitized(peer.client ?? "?")   // as the relay reported it
        guard pairings[id] == nil, peers[id] == nil, let ticket = Hex.decode(peer.ticket),
              ticket.count == DataPreamble.ticketLength else { return }
        // Each announced peer costs a connection and a SPAKE2 run: the relay (which announces them)
        // gets a bounded number at a time; the peer of an unanswered announcement times out.
        guard pairings.count < Self.maxPairingsInFlight else {
            return Console.detail(config.machineName, "Ignored a peer from \(client): \(Self.maxPairingsInFlight) pairings are already under way.")
        }
        let now = MonotonicClock.now()
        let handshake: EndToEndHandshake
        do {
            if connectGuard.isPaused(now: now) {
                let wait = connectGuard.secondsLeft(now: now)
                handshake = try EndToEndHandshake(
                    refusing: "too many wrong connect codes for this share; try again in \(DurationSyntax.format(seconds: wait))",
                    relay: link.endpoint.address, ticket: ticket, loop: loop)
                Console.detail(config.machineName, "Refused a connect attempt from \(client): connect is paused for \(DurationSyntax.format(seconds: wait)) after too many wrong codes.")
            } else {
                guard let credentials else { return }
                handshake = try EndToEndHandshake(side: .agent, relay: link.endpoint.address, ticket: ticket,
                                                  credentials: credentials, loop: loop)
            }
        } catch {
            return Console.error("==> \(config.machineName): cannot meet a peer from \(client): \(error)")
        }
        pairings[id] = handshake
        handshake.start { [weak self, weak handshake] result in
            guard let self else { return }
            self.pairings[id] = nil
            switch result {
            case .success(let tls):
                self.peerPaired(id: id, client: client, tls: tls)
            case .failure(let error):
                if handshake?.countsAsGuess == true { self.wrongCode(from: client, error: error) }
                else if case .refused = error {} else {
                    Console.detail(self.config.machineName, "A peer from \(client) did not connect: \(error).")
                }
            }
        }
    }

    private func peerPaired(id: UInt32, client: String, tls: TLSConnection) {
        let session = PeerSession(id: id, client: client, tls: tls, agent: self)
        peers[id] = session
        metrics.peersJoined += 1
        do {
            try session.start()
        } catch {
            peers[id] = nil
            Console.error("==> \(config.machineName): cannot start the session of a peer from \(client): \(error)")
        }
    }

    /// A pairing that tested a code and failed: one guess at it.
    private func wrongCode(from client: String, error: EndToEndError) {
        let machine = config.machineName
        metrics.wrongCodes += 1
        switch connectGuard.recordFailure(now: MonotonicClock.now()) {
        case .counted(let count):
            // The usual case is a peer with a wrong code: it checks our confirmation first and hangs up.
            Console.detail(machine, "A connect attempt from \(client) did not prove the connect code (a wrong code, or a guess; \(error)); \(count) of \(ConnectGuard.maxFailures) failed attempts before connect pauses.")
        case .paused:
            Console.headline(machine, "\(ConnectGuard.maxFailures) connect attempts failed (wrong codes?); refusing connect for \(DurationSyntax.format(seconds: Int(ConnectGuard.pause))).")
        }
    }

    /// A peer's session ended (it left, or its connection broke): its packets wait for it to resume.
    func peerLeft(_ session: PeerSession, packets: PacketSession?, error: Error?) {
        guard peers[session.id] === session else {
            packets?.close()   // the agent is ending
            return
        }
        peers[session.id] = nil
        guard let packets, !packets.closed, !session.leaving else {
            packets?.close()
            let counters = packets.map { ": \($0.stack.counters)" } ?? ""
            return Console.detail(config.machineName, "A peer disconnected (session \(session.id))\(counters).")
        }
        detach(packets, session: session.id, resumeID: session.resumeID)
        Console.detail(config.machineName, "A peer disconnected (session \(session.id)): \(packets.stack.counters); its connections through the machine IP wait \(DurationSyntax.format(seconds: max(1, Int(detached.window)))) for it to resume.")
    }

    func closePeers() {
        for session in peers.values { session.close() }
        peers.removeAll()
        pairings.removeAll()
        closeDetached()
    }

    /// A stream a peer opened inside its end-to-end session: a port of the machine, if the scope allows.
    func peerOpened(stream: UInt32, metadata: [UInt8], on tunnel: TunnelConnection) {
        guard let request = OpenRequest.decode(metadata), request.service == .tcp, let port = request.port else {
            return tunnel.reset(stream: stream, code: .protocolError, reason: "a peer opens tcp streams to a port of the machine")
        }
        guard scope.allows(port: port) else {
            metrics.streamsRefused += 1
            return tunnel.reset(stream: stream, code: .forbidden, reason: "port \(port) is not shared with connect peers")
        }
        dial(port: port, for: request, stream: stream, on: tunnel, session: ObjectIdentifier(tunnel))
    }
}
