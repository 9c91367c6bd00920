// The request head as the relay forwards it to the machine. Pure: bytes appended to a buffer.

extension HTTPRequestHead {
    /// Appends this head as the relay forwards it: the client's address appended to
    /// `X-Forwarded-For` (a proxy chain in front of the relay is kept, in order), `X-Forwarded-Proto`
    /// and `X-Forwarded-Host` set by the relay alone (a client cannot claim HTTPS or another host).
    /// Written straight into `out` (a buffer the connection reuses): no modified copy of the head,
    /// and no String, is built per request. With `removingAuthorization` (a share behind
    /// `--basic-auth`) the relay's own credentials stop here: the machine never sees them.
    public func serializeForwarded(clientIP: String, removingAuthorization: Bool = false, into out: inout [UInt8]) {
        appendRequestLine(to: &out)
        for field in headers.fields where !isForwardingField(field.name) {
            if removingAuthorization && asciiCaseInsensitiveEqual(field.name, "Authorization") { continue }
            appendHeaderField(field.name, field.value, to: &out)
        }
        out.append(contentsOf: "X-Forwarded-For: ".utf8)
        for field in headers.fields where asciiCaseInsensitiveEqual(field.name, "X-Forwarded-For") {
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: ", ".utf8)
        }
        out.append(contentsOf: clientIP.utf8)
        out.append(0x0D); out.append(0x0A)
        appendHeaderField("X-Forwarded-Proto", "http", to: &out)
        if let host { appendHeaderField("X-Forwarded-Host", host, to: &out) }
        out.append(0x0D); out.append(0x0A)
    }
}

/// The fields the relay writes itself (each is dropped from what the client sent).
private func isForwardingField(_ name: String) -> Bool {
    asciiCaseInsensitiveEqual(name, "X-Forwarded-For") || asciiCaseInsensitiveEqual(name, "X-Forwarded-Proto")
        || asciiCaseInsensitiveEqual(name, "X-Forwarded-Host")
}
