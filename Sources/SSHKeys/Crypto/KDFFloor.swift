import Wire

/// The least key-derivation work a connect client agrees to do for an SSH share's password,
/// whatever the relay sends. The proof a client returns is derived from the password with these
/// parameters: a relay (or whoever stands in for it) that lowered them would get a proof it could
/// test password guesses against offline, cheaply. Share agents seal with N = 2^16, r = 8.
public enum KDFFloor {
    public static let minimumLogN: UInt8 = 15
    public static let minimumR: UInt32 = 8

    /// Why `params` are refused (for the user), or nil when they meet the floor and the ceiling
    /// (`SSHKDFParams.isAcceptable`: a relay must not make a client spend gigabytes or hours either).
    public static func refusal(_ params: SSHKDFParams) -> String? {
        let offered = "\(params.kdf) N = 2^\(params.logN), r = \(params.r), p = \(params.p)"
        guard params.kdf == "scrypt", params.logN >= minimumLogN, params.r >= minimumR else {
            return "the relay asked for weaker password hashing than this client accepts (\(offered); at least scrypt N = 2^\(minimumLogN), r = \(minimumR)). A relay that lowers it could guess the password offline; ssh was not run. Check that --relay is the relay you trust."
        }
        guard params.isAcceptable else {
            return "the relay asked for more password hashing than this client will do (\(offered)), or a malformed salt; ssh was not run"
        }
        return nil
    }
}
