import Wire

/// Which streams the share agent accepts, and to which port of its own machine: the configured
/// HTTP and HTTPS ports for the relay's public traffic, and any port only for a stream of one of
/// the agent's own live connect sessions. Everything else is reset. The verdict names a port,
/// never an address: the agent dials only its own target, so a share is never an open proxy.
struct OpenRequestPolicy: Equatable, Sendable {
    /// nil: `--disable-http`.
    let httpPort: UInt16?
    /// nil: no `--https`.
    let httpsPort: UInt16?

    enum Verdict: Equatable {
        /// Dial this port of the machine for `request`.
        case dial(port: UInt16, request: OpenRequest)
        case reset(ResetCode, reason: String)
    }

    /// `isLiveSession`: whether a session id is one of this agent's current peers.
    func verdict(for metadata: [UInt8], isLiveSession: (UInt32) -> Bool) -> Verdict {
        guard let request = OpenRequest.decode(metadata) else {
            return .reset(.protocolError, reason: "malformed open request")
        }
        let port: UInt16?
        switch request.service {
        case .http: port = httpPort
        case .https: port = httpsPort
        case .tcp: port = request.session.map(isLiveSession) == true ? request.port : nil
        }
        guard let port else {
            return .reset(.refused, reason: "this share does not offer \(request.service.rawValue)")
        }
        return .dial(port: port, request: request)
    }
}

extension OpenRequestPolicy {
    init(config: ShareConfig) {
        self.init(httpPort: config.disableHTTP ? nil : config.httpPort, httpsPort: config.httpsPort)
    }
}
