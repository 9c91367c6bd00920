import Foundation

/// The JSON bodies of `/api/...` (documented in docs/API.md).
enum AdminAPI {
    struct SharesBody: Codable { var shares: [AdminShare] }
    struct ExpiredBody: Codable { var expired: String }
    struct ErrorBody: Codable { var error: String }

    static func shares(_ shares: [AdminShare]) -> AdminResponse { .json(200, encode(SharesBody(shares: shares))) }

    static func expired(_ name: String) -> AdminResponse { .json(200, encode(ExpiredBody(expired: name))) }

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
