import Store
import Wire

extension RelayServer {
    /// Every new share goes through here, so the history and the metrics count the same shares.
    func recordShareCreated(_ entry: ShareEntry, owner: ShareOwner?, request: CreateShare) {
        metrics.shareCreated()
        store?.shareCreated(entry, owner: owner, request: request)
    }

    /// Every share's end goes through here, for the same reason.
    func recordShareEnded(_ name: String, reason: Store.ShareEndReason, by actor: String = "relay", note: String? = nil) {
        metrics.shareEnded(reason)
        store?.shareEnded(name, reason: reason, by: actor, note: note)
    }
}
