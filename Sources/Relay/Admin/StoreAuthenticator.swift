/// The web interface's users are the relay's users (`RelayStore`): the owner token is `admin`,
/// who sees everything; any other user's token signs in as that user. Refused tokens reach the
/// audit trail through AdminApp, which knows the client's address.
struct StoreAuthenticator: AdminAuthenticator {
    let store: RelayStore

    func authenticate(token: String) -> AdminUser? {
        store.user(forToken: token).map { AdminUser(name: $0.name, isAdmin: $0.isAdmin) }
    }
}
