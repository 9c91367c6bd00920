/// Which access-log rows of one share a page shows: a status class, a path substring, and where
/// the page starts. Values only ever reach SQLite as bound parameters.
public struct AccessLogFilter: Sendable, Equatable {
    /// 2xx, 3xx, 4xx or 5xx: `digit` is the first digit of the status.
    public struct StatusClass: Sendable, Equatable {
        public let digit: Int

        /// "2xx"..."5xx" (also "2XX"); nil for anything else.
        public init?(_ text: String) {
            let bytes = Array(text.lowercased().utf8)
            guard bytes.count == 3, bytes[1] == 0x78, bytes[2] == 0x78, (0x31...0x35).contains(bytes[0]) else { return nil }
            digit = Int(bytes[0] - 0x30)
        }

        public var text: String { "\(digit)xx" }
    }

    public var status: StatusClass?
    /// Rows whose path contains this text (ASCII case-insensitive, as SQLite's LIKE); nil or empty: any.
    public var pathContains: String?
    /// Only rows older than the row with this id (the next page).
    public var before: Int64?
    /// Only rows that arrived after the row with this id (what arrived since the last poll); then
    /// rows come in arrival order, newest first, and `before` is an id bound too.
    public var after: Int64?
    public var limit: Int

    public static let maxLimit = 500

    public init(status: StatusClass? = nil, pathContains: String? = nil, before: Int64? = nil, after: Int64? = nil, limit: Int = 50) {
        self.status = status
        self.pathContains = pathContains
        self.before = before
        self.after = after
        self.limit = max(1, min(limit, Self.maxLimit))
    }

    /// `text` as a LIKE pattern matching it anywhere, with `%`, `_` and the escape `\` taken literally
    /// (the query says `ESCAPE '\'`).
    static func likePattern(containing text: String) -> String {
        var pattern = "%"
        for character in text {
            if character == "%" || character == "_" || character == "\\" { pattern.append("\\") }
            pattern.append(character)
        }
        return pattern + "%"
    }
}
