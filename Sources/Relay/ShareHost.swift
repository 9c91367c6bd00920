/// Which share a Host header or SNI name points at: `NAME.DOMAIN`, optionally with `:PORT` and a
/// trailing dot, case-insensitive. Anything else is no share.
enum ShareHost {
    static func name(fromHost host: String?, domain: String) -> String? {
        guard var host = host?.lowercased() else { return nil }
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") { host = String(host[..<colon]) }
        if host.hasSuffix(".") { host.removeLast() }
        let suffix = "." + domain.lowercased()
        guard host.hasSuffix(suffix) else { return nil }
        let name = String(host.dropLast(suffix.count))
        return ShareNameGenerator.isWellFormed(name) ? name : nil
    }
}
