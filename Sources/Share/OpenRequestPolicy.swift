import Wire

/// Which streams from the relay the share agent accepts, and to which port of its own machine: the
/// configured HTTP and HTTPS ports for the public URL, and the SSH port (with `--ssh`) for
/// `connect --ssh`. Any other port is reachable only from inside an end-to-end session
/// (`ShareAgent.peerOpened`), never by a stream the relay opens. The verdict names a port, never
/// an address: the agent dials only its own target, so a share is never an open proxy.
struct OpenRequestPolicy: Equatable, Sendable {
    /// nil: `--disable-http`.
    let httpPort: UInt16?
    /// nil: no `--https`.
    let httpsPort: UInt16?
    /// nil: no `--ssh`.
    let sshPort: UInt16?

    enum Verdict: Equatable {
        /// Dial this port of the machine for `request`.
        case dial(port: UInt16, request: OpenRequest)
        case reset(ResetCode, reason: String)
    }

    func verdict(for metadata: [UInt8]) -> Verdict {
        guard let request = OpenRequest.decode(metadata) else {
            return .reset(.protocolError, reason: "malformed open request")
        }
        let port: UInt16?
        switch request.service {
        case .http: port = httpPort
        case .https: port = httpsPort
        case .ssh: port = sshPort
        case .tcp:
            return .reset(.refused, reason: "the relay may not open tcp streams; a peer reaches other ports through its end-to-end session")
        }
        guard let port else {
            return .reset(.refused, reason: "this share does not offer \(request.service.rawValue)")
        }
        return .dial(port: port, request: request)
    }
}

extension OpenRequestPolicy {
    init(config: ShareConfig) {
        self.init(httpPort: config.disableHTTP ? nil : config.httpPort, httpsPort: config.httpsPort,
                  sshPort: config.ssh?.port)
    }
}
