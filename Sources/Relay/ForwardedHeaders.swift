import Wire

extension HTTPRequestHead {
    /// The head as the relay passes it to the machine: the client's address appended to
    /// `X-Forwarded-For` (a proxy chain in front of the relay is kept), and `X-Forwarded-Proto` and
    /// `X-Forwarded-Host` set by the relay alone (a client cannot claim HTTPS or another host).
    func forwarded(from clientIP: String) -> HTTPRequestHead {
        var head = self
        let chain = head.headers.values(named: "X-Forwarded-For").joined(separator: ", ")
        head.headers.remove(named: "X-Forwarded-For")
        head.headers.add(name: "X-Forwarded-For", value: chain.isEmpty ? clientIP : "\(chain), \(clientIP)")
        head.headers.remove(named: "X-Forwarded-Proto")
        head.headers.add(name: "X-Forwarded-Proto", value: "http")
        head.headers.remove(named: "X-Forwarded-Host")
        if let host { head.headers.add(name: "X-Forwarded-Host", value: host) }
        return head
    }
}
