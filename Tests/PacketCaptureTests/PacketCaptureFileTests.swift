import CPcap
import Foundation
import Glibc
import PacketCapture
import Wire
import XCTest

final class PacketCaptureFileTests: XCTestCase {
    private var path = ""

    override func setUp() {
        path = NSTemporaryDirectory() + "vshare-capture-\(getpid())-\(UUID().uuidString).pcap"
    }

    override func tearDown() { unlink(path) }

    /// Echo requests 172.16.0.2 → 172.16.0.1, id 9, sequence 1...3, 10 · sequence bytes of data.
    private let packets: [[UInt8]] = (1...3).map { seq in
        let body = [UInt8](repeating: UInt8(seq), count: 10 * seq)
        var packet = [UInt8](repeating: 0, count: 28) + body
        packet.withUnsafeMutableBytes { p in
            try! ICMPv4Header(type: ICMPv4Header.echoRequest, code: 0, rest: 9 << 16 | UInt32(seq))
                .emit(into: UnsafeMutableRawBufferPointer(rebasing: p[20...]))
            try! IPv4Header(source: IPv4Address(172, 16, 0, 2), destination: IPv4Address(172, 16, 0, 1),
                            protocolNumber: IPv4Header.protocolICMP, payloadLength: 8 + body.count).emit(into: p)
        }
        return packet
    }

    private func writeCapture(snapshotLength: Int = 65535) throws {
        let capture = try PacketCaptureFile(path: path, snapshotLength: snapshotLength)
        for (i, p) in packets.enumerated() {
            p.withUnsafeBytes { capture.write(packet: $0, timestamp: timeval(tv_sec: 1_700_000_000 + i, tv_usec: 250)) }
        }
        try capture.flush()
        capture.close()
        capture.close()   // idempotent
        packets[0].withUnsafeBytes { capture.write(packet: $0) }   // ignored after close
    }

    func testLibpcapReadsBackPacketsAndTimestamps() throws {
        try writeCapture()
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        let reader = try XCTUnwrap(pcap_open_offline(path, &errbuf), String(decoding: errbuf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        defer { pcap_close(reader) }
        XCTAssertEqual(pcap_datalink(reader), DLT_RAW)
        var read: [[UInt8]] = []
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        while pcap_next_ex(reader, &header, &data) == 1, let header, let data {
            XCTAssertEqual(header.pointee.ts.tv_sec, 1_700_000_000 + read.count)
            XCTAssertEqual(header.pointee.ts.tv_usec, 250)
            XCTAssertEqual(header.pointee.len, header.pointee.caplen)
            read.append(Array(UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen))))
        }
        XCTAssertEqual(read, packets)
    }

    func testSnapshotLengthCutsButKeepsOriginalLength() throws {
        try writeCapture(snapshotLength: 30)
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        let reader = try XCTUnwrap(pcap_open_offline(path, &errbuf))
        defer { pcap_close(reader) }
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        XCTAssertEqual(pcap_next_ex(reader, &header, &data), 1)
        XCTAssertEqual(header?.pointee.caplen, 30)
        XCTAssertEqual(header?.pointee.len, UInt32(packets[0].count))
    }

    func testTcpdumpDecodesTheFile() throws {
        try writeCapture()
        guard let output = try runTool("/usr/bin/tcpdump", ["-r", path, "-nn"]) else {
            throw XCTSkip("tcpdump not installed")
        }
        let lines = output.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, output)
        XCTAssertTrue(lines.allSatisfy { $0.contains("IP 172.16.0.2 > 172.16.0.1: ICMP echo request, id 9") }, output)
    }

    /// The file is new and private: mode 0600; an existing file or a symbolic link (a planted
    /// `/tmp/x.pcap -> /etc/shadow`) is refused and left alone.
    func testTheCaptureIsANewPrivateFileNeverAnExistingOneOrALink() throws {
        try writeCapture()
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)

        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PacketCaptureFile(path: path)) { error in
            XCTAssertTrue("\(error)".contains("already exists"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before, "an existing file is not truncated")

        let target = path + ".target", link = path + ".link"
        defer { unlink(target); unlink(link) }
        try Data("precious".utf8).write(to: URL(fileURLWithPath: target))
        XCTAssertEqual(symlink(target, link), 0)
        XCTAssertThrowsError(try PacketCaptureFile(path: link)) { error in
            XCTAssertTrue("\(error)".contains("already exists") || "\(error)".contains("symbolic link"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "precious")
        let dangling = path + ".dangling"
        defer { unlink(dangling) }
        XCTAssertEqual(symlink(path + ".nowhere", dangling), 0)
        XCTAssertThrowsError(try PacketCaptureFile(path: dangling), "a dangling link is not followed to create its target")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".nowhere"))
    }

    func testUnwritablePathIsATypedError() {
        XCTAssertThrowsError(try PacketCaptureFile(path: "/nonexistent-dir/x.pcap")) { error in
            let e = error as? PacketCaptureError
            XCTAssertEqual(e?.path, "/nonexistent-dir/x.pcap")
            XCTAssertTrue(e?.description.contains("No such file") ?? false, "\(error)")
        }
    }
}

/// Output of a tool, or nil when it is not installed.
private func runTool(_ path: String, _ arguments: [String]) throws -> String? {
    guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()   // before waiting: the pipe may fill
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
