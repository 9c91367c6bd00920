import Store

/// The record pages of a relay run with `--store off`: it keeps no history, logs or audit trail
/// (its access log goes to standard output only), so they are empty and a share's log is 404.
final class NoRecordsLogBook: AdminLogBook {
    func history(for user: AdminUser, limit: Int) -> [AdminEndedShare] { [] }
    func shareLog(_ name: String, filter: AccessLogFilter, for user: AdminUser) -> AdminLookup<AdminShareLog> { .notFound }
    func audit(before: Int64?, limit: Int) -> [AdminAuditRow] { [] }
    var droppedLogRows: Int { 0 }
    func record(_ event: AdminAuditEvent) {}
}
