// The request head as the relay forwards it to the machine. Pure: bytes appended to a buffer.

extension HTTPRequestHead {
    /// Appends this head as the relay forwards it. The relay is the first proxy the machine can
    /// trust, so what a client claims about the path before it is dropped, not extended:
    /// `X-Forwarded-For` is the TCP peer alone, `X-Forwarded-Proto` and `X-Forwarded-Host` are the
    /// relay's; `Forwarded` and `X-Real-IP` (the same claims in other spellings) are removed, as
    /// is every field the request's `Connection` header names (hop-by-hop, RFC 9110 §7.6.1) —
    /// except the ones this message cannot lose: `Host`, its framing (`Content-Length`,
    /// `Transfer-Encoding`: dropping them would make the machine read the body as a new request),
    /// and `Upgrade` on an upgrade request (the machine must see what is asked of it).
    /// Written straight into `out` (a buffer the connection reuses): no modified copy of the head
    /// is built per request. With `removingAuthorization` (a share behind `--basic-auth`) the
    /// relay's own credentials stop here: the machine never sees them.
    public func serializeForwarded(clientIP: String, removingAuthorization: Bool = false, into out: inout [UInt8]) {
        appendRequestLine(to: &out)
        // Nearly every request names nothing but keep-alive/close/upgrade: no list is built then.
        let named = headers.contains(name: "Connection") ? hopByHopNames() : []
        for field in headers.fields where !isClaimField(field.name) {
            if removingAuthorization && asciiCaseInsensitiveEqual(field.name, "Authorization") { continue }
            if !named.isEmpty && named.contains(where: { asciiCaseInsensitiveEqual($0, field.name) }) { continue }
            appendHeaderField(field.name, field.value, to: &out)
        }
        appendHeaderField("X-Forwarded-For", clientIP, to: &out)
        appendHeaderField("X-Forwarded-Proto", "http", to: &out)
        if let host { appendHeaderField("X-Forwarded-Host", host, to: &out) }
        out.append(0x0D); out.append(0x0A)
    }

    /// The field names the `Connection` header lists, less the ones the relay must keep.
    private func hopByHopNames() -> [String] {
        headers.tokens(named: "Connection").filter { name in
            !(name == "host" || name == "content-length" || name == "transfer-encoding" || name == "connection"
                || (name == "upgrade" && isUpgrade))
        }
    }
}

/// Fields about the client that only the relay may write (each is dropped from what the client sent).
private func isClaimField(_ name: String) -> Bool {
    asciiCaseInsensitiveEqual(name, "X-Forwarded-For") || asciiCaseInsensitiveEqual(name, "X-Forwarded-Proto")
        || asciiCaseInsensitiveEqual(name, "X-Forwarded-Host") || asciiCaseInsensitiveEqual(name, "Forwarded")
        || asciiCaseInsensitiveEqual(name, "X-Real-IP")
}
