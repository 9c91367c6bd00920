import Wire

extension HTTPRequestHead {
    /// Appends this head as the relay forwards it to the machine: the client's address appended to
    /// `X-Forwarded-For` (a proxy chain in front of the relay is kept), `X-Forwarded-Proto` and
    /// `X-Forwarded-Host` set by the relay alone (a client cannot claim HTTPS or another host).
    /// Written straight into `out` (a buffer the connection reuses): no modified copy of the head
    /// is built per request.
    func appendForwarded(from clientIP: String, to out: inout [UInt8]) {
        out.append(contentsOf: method.utf8); out.append(0x20)
        out.append(contentsOf: target.utf8); out.append(0x20)
        out.append(contentsOf: version.description.utf8)
        appendLineEnd(to: &out)
        var chain: [String] = []
        for field in headers {
            if ForwardedField.forwardedFor.matches(field.name) { chain.append(field.value); continue }
            if ForwardedField.forwardedProto.matches(field.name) || ForwardedField.forwardedHost.matches(field.name) { continue }
            appendField(field.name, field.value, to: &out)
        }
        chain.append(clientIP)
        appendField("X-Forwarded-For", chain.joined(separator: ", "), to: &out)
        appendField("X-Forwarded-Proto", "http", to: &out)
        if let host { appendField("X-Forwarded-Host", host, to: &out) }
        appendLineEnd(to: &out)
    }
}

private func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
    out.append(contentsOf: name.utf8)
    out.append(0x3A); out.append(0x20)
    out.append(contentsOf: value.utf8)
    appendLineEnd(to: &out)
}

private func appendLineEnd(to out: inout [UInt8]) { out.append(0x0D); out.append(0x0A) }

/// The fields the relay sets itself, matched without allocating (ASCII, case-insensitive).
private enum ForwardedField: String {
    case forwardedFor = "x-forwarded-for"
    case forwardedProto = "x-forwarded-proto"
    case forwardedHost = "x-forwarded-host"

    func matches(_ name: String) -> Bool {
        let lower = rawValue.utf8
        guard name.utf8.count == lower.count else { return false }
        return zip(name.utf8, lower).allSatisfy { ((0x41...0x5A).contains($0) ? $0 | 0x20 : $0) == $1 }
    }
}
