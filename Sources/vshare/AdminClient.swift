import Foundation
import Glibc
import Transport
import Wire

/// The CLI's side of the relay's web API (`vshare shares`, `vshare expire`): one blocking HTTP/1.1
/// request per call, with a deadline. Plain HTTP only: the API is on loopback by default, so the
/// CLI runs on the relay's host (or through an SSH tunnel to it).
struct AdminClient {
    enum Failure: Error, CustomStringConvertible {
        case badURL(String)
        case unreachable(String, String)
        case timeout(String)
        case badResponse(String)
        /// The API answered with an error status and message.
        case refused(Int, String)

        var description: String {
            switch self {
            case .badURL(let url):
                return "--admin '\(url)' is not an http://HOST:PORT address (the CLI speaks plain HTTP: run it on the relay's host, or tunnel 127.0.0.1:7444 to it)"
            case .unreachable(let url, let why):
                return "cannot reach the relay's web interface at \(url): \(why). Is the relay running with --admin, and is --admin right?"
            case .timeout(let url): return "the relay's web interface at \(url) did not answer within 10 s"
            case .badResponse(let why): return "the relay's web interface sent an answer the CLI cannot read: \(why)"
            case .refused(401, _): return "the relay refused the token. Pass the owner token with --token or VSHARE_TOKEN (it is in the relay's data directory, DIR/token)."
            case .refused(let status, let message): return "\(message) (HTTP \(status))"
            }
        }
    }

    let url: String
    let address: SocketAddress
    let token: String
    static let deadline = 10.0

    init(url: String, token: String) throws(Failure) {
        guard url.hasPrefix("http://") else { throw .badURL(url) }
        let hostPort = url.dropFirst("http://".count).split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard let address = try? SocketAddress(parsing: String(hostPort == "localhost" ? "127.0.0.1:80" : hostPort), defaultHost: "127.0.0.1") else {
            throw .badURL(url)
        }
        self.url = url
        self.address = address
        self.token = token
    }

    /// Sends one request and decodes a JSON answer (2xx) or the API's `{"error": ...}`.
    func call<Answer: Decodable>(_ method: String, _ path: String, as: Answer.Type) throws(Failure) -> Answer {
        let (status, body) = try exchange(method, path)
        guard (200..<300).contains(status) else {
            let message = (try? JSONDecoder().decode([String: String].self, from: Data(body)))?["error"]
            throw .refused(status, message ?? "the relay answered HTTP \(status)")
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(body))
        } catch {
            throw .badResponse("\(error)")
        }
    }

    private func exchange(_ method: String, _ path: String) throws(Failure) -> (Int, [UInt8]) {
        var head = HTTPRequestHead(method: method, target: path)
        head.headers.add(name: "Host", value: address.description)
        head.headers.add(name: "Authorization", value: "Bearer \(token)")
        head.headers.add(name: "Content-Length", value: "0")
        head.headers.add(name: "Connection", value: "close")
        let raw = try roundTrip(head.serialized())
        var parser = HTTPResponseParser()
        parser.expectResponse(toMethod: method)
        parser.feed(raw)
        var status = 0
        var body: [UInt8] = []
        do {
            while let event = try parser.next() ?? parser.finishAtEOF() {
                switch event {
                case .head(let response, _): status = response.status
                case .body(let bytes): body += bytes
                case .end: return (status, body)
                default: break
                }
            }
        } catch {
            throw .badResponse("\(error)")
        }
        throw .badResponse("the answer ended early")
    }

    /// Connects, writes the request, reads until the server closes (it answers `Connection: close`).
    private func roundTrip(_ request: [UInt8]) throws(Failure) -> [UInt8] {
        let end = MonotonicClock.now() + Self.deadline
        let socket: Socket
        do { socket = try Socket.connect(to: address) } catch { throw .unreachable(url, "\(error)") }
        defer { socket.close() }
        try wait(socket, for: Int16(POLLOUT), until: end)
        let error = socket.connectError()
        guard error == 0 else { throw .unreachable(url, String(cString: strerror(error))) }
        var sent = 0
        while sent < request.count {
            try wait(socket, for: Int16(POLLOUT), until: end)
            let result = request.withUnsafeBytes { bytes in Result { () throws(SystemError) in try socket.write(UnsafeRawBufferPointer(rebasing: bytes[sent...])) } }
            guard case .success(let io) = result else { throw .unreachable(url, "the connection broke") }
            if case .bytes(let n) = io { sent += n }
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            try wait(socket, for: Int16(POLLIN), until: end)
            let result = buffer.withUnsafeMutableBytes { bytes in Result { () throws(SystemError) in try socket.read(into: bytes) } }
            switch result {
            case .success(.bytes(let n)): answer += buffer[..<n]
            case .success(.eof): return answer
            case .success(.wouldBlock): continue
            case .failure(let error): throw .unreachable(url, "\(error)")
            }
        }
    }

    private func wait(_ socket: Socket, for events: Int16, until end: Double) throws(Failure) {
        var entry = pollfd(fd: socket.fd, events: events, revents: 0)
        while true {
            let left = end - MonotonicClock.now()
            guard left > 0 else { throw .timeout(url) }
            let ready = poll(&entry, 1, Int32(left * 1000))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw .unreachable(url, String(cString: strerror(errno))) }
        }
    }
}
