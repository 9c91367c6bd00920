/// The web interface's users are the relay's users (`RelayStore`): the owner token is `admin`,
/// who sees everything; any other user's token signs in as that user. A refused token is written
/// to the audit trail.
struct StoreAuthenticator: AdminAuthenticator {
    let store: RelayStore

    func authenticate(token: String) -> AdminUser? {
        guard let user = store.user(forToken: token) else {
            store.audit(actor: "?", action: "login.failed", detail: "a token no user holds")
            return nil
        }
        return AdminUser(name: user.name, isAdmin: user.isAdmin)
    }
}
