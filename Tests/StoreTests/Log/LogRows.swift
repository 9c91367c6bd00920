import Foundation
@testable import Store

/// Sample rows for the log tests.
enum LogRows {
    static func access(_ index: Int, share: String = "frosty-weasel-0857", client: String = "10.0.0.2:40000",
                       time: Date = Date(timeIntervalSince1970: 1_700_000_000)) -> LogRow {
        .access(AccessLogEntry(share: share, time: time, client: client, method: "GET", path: "/page/\(index)", status: 200,
                               bytes: Int64(index), durationMilliseconds: 3, userAgent: "curl/7.88.1"))
    }

    static func audit(_ action: String, time: Date = Date(timeIntervalSince1970: 1_700_000_000)) -> LogRow {
        .audit(AuditEntry(time: time, actor: "admin", action: action, subject: "frosty-weasel-0857"))
    }
}
