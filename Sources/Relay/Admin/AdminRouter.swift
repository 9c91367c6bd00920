/// Where a request goes in the web interface: a pure function of method and path, so every route
/// (and every refusal) is tested without a socket.
public enum AdminRoute: Equatable, Sendable {
    case loginPage
    case login
    case logout
    case sharesPage
    /// The Expire now button's form.
    case expireForm(name: String)
    case asset(name: String)
    /// Ended shares.
    case historyPage
    /// One share's access log, connect sessions and SSH events.
    case shareLogPage(name: String)
    /// The audit trail (admin only).
    case auditPage
    case apiShares
    case apiHistory
    case apiShareLog(name: String)
    case apiAudit
    case apiExpire(name: String)
    /// Prometheus's scrape (admin users' tokens only).
    case metrics
    case notFound
    /// The path exists, the method does not (405 with `Allow`).
    case methodNotAllowed(allow: String)

    public static func route(method: String, target: String) -> AdminRoute {
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        func only(_ allowed: String, _ route: AdminRoute) -> AdminRoute {
            method == allowed || (allowed == "GET" && method == "HEAD") ? route : .methodNotAllowed(allow: allowed)
        }
        switch (parts.count, parts.first ?? "") {
        case (1, ""): return only("GET", .sharesPage)
        case (1, "login"):
            switch method {
            case "GET", "HEAD": return .loginPage
            case "POST": return .login
            default: return .methodNotAllowed(allow: "GET, POST")
            }
        case (1, "logout"): return only("POST", .logout)
        case (1, "history"): return only("GET", .historyPage)
        case (1, "audit"): return only("GET", .auditPage)
        case (2, "shares") where ShareNameSyntax.isPlausible(parts[1]): return only("GET", .shareLogPage(name: parts[1]))
        case (3, "shares") where parts[2] == "expire" && ShareNameSyntax.isPlausible(parts[1]):
            return only("POST", .expireForm(name: parts[1]))
        case (2, "assets") where AdminAssets.named(parts[1]) != nil: return only("GET", .asset(name: parts[1]))
        case (1, "metrics"): return only("GET", .metrics)
        case (2, "api") where parts[1] == "shares": return only("GET", .apiShares)
        case (2, "api") where parts[1] == "history": return only("GET", .apiHistory)
        case (2, "api") where parts[1] == "audit": return only("GET", .apiAudit)
        case (4, "api") where parts[1] == "shares" && parts[3] == "log" && ShareNameSyntax.isPlausible(parts[2]):
            return only("GET", .apiShareLog(name: parts[2]))
        case (4, "api") where parts[1] == "shares" && parts[3] == "expire" && ShareNameSyntax.isPlausible(parts[2]):
            return only("POST", .apiExpire(name: parts[2]))
        default: return .notFound
        }
    }
}

/// Share names are lowercase words and digits joined by dashes; anything else in a path is not a
/// share (so a path never carries markup or dots to the handlers).
enum ShareNameSyntax {
    static func isPlausible(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 63 && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}
