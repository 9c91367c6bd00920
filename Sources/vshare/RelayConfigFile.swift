import Foundation
import Wire

/// `vshare relay --config FILE`: settings named like the relay's options (`share-ttl = "8h"` is
/// `--share-ttl 8h`), read through the same value parsers, so the file and the command line cannot
/// mean different things. A flag given on the command line wins over the file's line for it.
enum RelayConfigFile {
    /// A config file is a few hundred bytes written by hand; anything far larger is a wrong path.
    static let maxBytes = 1 << 20

    /// Fills `parsed` with the file's settings for every option the command line left unset.
    static func apply(_ path: String, to parsed: inout ArgumentScanner.Parsed, settings: Set<String>) throws(ArgumentScanner.UsageError) {
        for entry in try entries(path) {
            guard settings.contains(entry.key) else {
                throw .init("\(path) line \(entry.line): unknown setting '\(entry.key)' (settings are the options of `vshare relay`: \(settings.sorted().joined(separator: ", ")))")
            }
            guard parsed.values[entry.key] == nil else { continue }
            parsed.values[entry.key] = entry.value.commandLineValues
        }
    }

    private static func entries(_ path: String) throws(ArgumentScanner.UsageError) -> [ConfigEntry] {
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            data = try handle.read(upToCount: maxBytes + 1) ?? Data()
        } catch {
            throw .init("cannot read the config file \(path): \(error.localizedDescription)")
        }
        guard data.count <= maxBytes else { throw .init("\(path) is larger than 1 MiB: is it the config file?") }
        guard let text = String(data: data, encoding: .utf8) else { throw .init("\(path) is not UTF-8 text") }
        do {
            return try ConfigFileParser.parse(text)
        } catch {
            throw .init("\(path) \(error)")
        }
    }
}
