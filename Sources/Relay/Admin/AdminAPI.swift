import Foundation

/// The JSON bodies of `/api/...` (documented in docs/API.md).
enum AdminAPI {
    struct SharesBody: Codable { var shares: [AdminShare] }
    struct ExpiredBody: Codable { var expired: String }
    struct ErrorBody: Codable { var error: String }
    struct HistoryBody: Codable { var shares: [AdminEndedShare]; var droppedLogRows: Int }
    /// `next`: pass it as `before` for the older page; absent on the last page.
    struct ShareLogBody: Codable {
        var share: String
        var rows: [AdminAccessRow]
        var connectSessions: [AdminConnectSession]
        var sshEvents: [AdminSSHEvent]
        var next: Int64?
        var droppedLogRows: Int
    }
    struct AuditBody: Codable { var rows: [AdminAuditRow]; var next: Int64?; var droppedLogRows: Int }

    static func shares(_ shares: [AdminShare]) -> AdminResponse { .json(200, encode(SharesBody(shares: shares))) }

    static func expired(_ name: String) -> AdminResponse { .json(200, encode(ExpiredBody(expired: name))) }

    static func history(_ shares: [AdminEndedShare], dropped: Int) -> AdminResponse {
        .json(200, encode(HistoryBody(shares: shares, droppedLogRows: dropped)))
    }

    static func shareLog(_ name: String, _ log: AdminShareLog, next: Int64?, dropped: Int) -> AdminResponse {
        .json(200, encode(ShareLogBody(share: name, rows: log.rows, connectSessions: log.connectSessions, sshEvents: log.sshEvents,
                                       next: next, droppedLogRows: dropped)))
    }

    static func audit(_ rows: [AdminAuditRow], next: Int64?, dropped: Int) -> AdminResponse {
        .json(200, encode(AuditBody(rows: rows, next: next, droppedLogRows: dropped)))
    }

    static func error(_ status: Int, _ message: String, headers: [(String, String)] = []) -> AdminResponse {
        var response = AdminResponse.json(status, encode(ErrorBody(error: message)))
        response.headers = headers
        return response
    }

    private static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain structs cannot fail.
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }
}
