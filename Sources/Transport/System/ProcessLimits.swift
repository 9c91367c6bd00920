import CShims

public enum ProcessLimits {
    /// Raises the open-file soft limit to the hard limit (servers hold one descriptor per client).
    /// Returns the limit now in force, or nil if it could not be read.
    @discardableResult
    public static func raiseOpenFileLimit() -> Int? {
        let limit = vshare_raise_open_file_limit()
        return limit < 0 ? nil : limit
    }
}
