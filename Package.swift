// swift-tools-version:6.0
// vshare: share a running machine through a relay. No package dependencies:
// Foundation, Dispatch, Glibc and Debian's C libraries only (see README).
import PackageDescription

let package = Package(
    name: "vshare",
    products: [
        .executable(name: "vshare", targets: ["vshare"]),
    ],
    targets: [
        // System libraries (OpenSSL; libpcap for packet capture files; SQLite for the relay's store) and the C shims Swift cannot
        // call directly (variadic ioctl, OpenSSL macros, epoll).
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "CShims", dependencies: ["COpenSSL"]),

        // Swift helpers over the C libraries: OpenSSL's error queue, C string buffers.
        .target(name: "CInterop", dependencies: ["COpenSSL"]),
        // User-facing output in the seed's style (`==> default: ...`).
        .target(name: "Console"),

        // Pure, I/O-free protocol cores: tunnel frames and multiplexing, HTTP/1.1, SOCKS5, TLS ClientHello,
        // IP headers, control messages; and the helpers they share (big-endian, trimming, a timer heap).
        .target(name: "Wire"),
        // The I/O shell the roles share: epoll event loops, sockets, TLS, the tunnel connection, the one
        // pump that joins two byte endpoints, the reconnecting relay link.
        .target(name: "Transport", dependencies: ["Wire", "CShims", "COpenSSL", "CInterop", "Console"]),
        // The relay's CA and certificates, PEM files, random secrets and their comparison.
        .target(name: "Identity", dependencies: ["Wire", "CShims", "COpenSSL", "CInterop"]),
        // SSH sharing's keys and processes: Ed25519, the OpenSSH key format, password sealing
        // (scrypt + AES-GCM), ssh children spawned with a clean signal mask, a private ssh-agent.
        .target(name: "SSHKeys", dependencies: ["Wire", "CShims", "COpenSSL", "CInterop"]),
        // Connect codes (generation, normalization) and SPAKE2 (RFC 9382, P-256) as a sans-I/O state machine.
        .target(name: "Pairing", dependencies: ["Wire", "COpenSSL", "CInterop"]),
        // End-to-end connect sessions: a data connection through the relay, SPAKE2 over the connect
        // code, then TLS 1.3 keyed from it (external PSK + ECDHE). Shared by the share and connect roles.
        .target(name: "EndToEnd", dependencies: ["Wire", "Transport", "Pairing", "CInterop"]),
        // The relay's persistent state in SQLite: users and tokens, live shares and their history, and the
        // log writer that commits access-log and audit rows in batches off the event loops.
        .target(name: "Store", dependencies: ["CShims", "CSQLite", "COpenSSL", "CInterop", "Identity", "Wire"]),

        // The roles.
        .target(name: "Relay", dependencies: ["Wire", "Transport", "Identity", "Console", "CInterop", "Store"]),
        .target(name: "Share", dependencies: ["Wire", "Transport", "Identity", "PacketStack", "SSHKeys", "Console", "CInterop", "EndToEnd", "Pairing"]),
        .target(name: "Connect", dependencies: ["Wire", "Transport", "TunDevice", "PacketCapture", "SSHKeys", "Console", "EndToEnd", "Pairing"]),
        .target(name: "PacketStack", dependencies: ["Wire"]),
        // The connect side's TUN: the `TunDevice` interface, the Linux device, machine-IP allocation.
        .target(name: "TunDevice", dependencies: ["Wire", "CShims"]),
        // `--pcap`: raw-IP packet capture files through libpcap.
        .target(name: "PacketCapture", dependencies: ["CPcap"]),

        .executableTarget(name: "vshare", dependencies: ["Relay", "Share", "Connect", "Transport", "Wire", "Identity", "SSHKeys", "Console", "Pairing", "Store"]),

        // Seeded randomness, input splitting and kernel-captured packets shared by the fuzz targets and the tests.
        .target(name: "TestSupport", dependencies: ["Wire"]),
        // An in-memory TUN device for tests of the code that drives one.
        .target(name: "TunDeviceTesting", dependencies: ["TunDevice", "CShims"]),
        // An in-memory tunnel (streams and datagrams) for tests of the code that uses one.
        .target(name: "TransportTesting", dependencies: ["Transport", "Wire"]),

        // libFuzzer targets: `scripts/fuzz` builds them with --sanitize=fuzzer.
        .executableTarget(name: "FuzzTunnelFrames", dependencies: ["Wire", "TestSupport"]),
        .executableTarget(name: "FuzzHTTP", dependencies: ["Wire", "TestSupport"]),
        .executableTarget(name: "FuzzSOCKS", dependencies: ["Wire", "TestSupport"]),
        .executableTarget(name: "FuzzPairing", dependencies: ["EndToEnd", "Wire"]),
        .executableTarget(name: "FuzzPackets", dependencies: ["PacketStack", "Connect", "Wire"]),

        .testTarget(name: "WireTests", dependencies: ["Wire", "TestSupport"]),
        .testTarget(name: "ConsoleTests", dependencies: ["Console"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "TransportTesting", "Wire", "Identity"]),
        .testTarget(name: "IdentityTests", dependencies: ["Identity", "Transport", "Wire"]),
        .testTarget(name: "SSHKeysTests", dependencies: ["SSHKeys", "Wire"]),
        .testTarget(name: "PairingTests", dependencies: ["Pairing"]),
        .testTarget(name: "EndToEndTests", dependencies: ["EndToEnd", "Pairing", "Transport", "TransportTesting", "Wire"]),
        .testTarget(name: "TunDeviceTests", dependencies: ["TunDevice", "CShims", "Wire"]),
        .testTarget(name: "PacketCaptureTests", dependencies: ["PacketCapture", "CPcap", "Wire"]),
        .testTarget(name: "ConnectTests", dependencies: ["Connect", "TunDevice", "TunDeviceTesting", "Transport", "TransportTesting", "Wire", "TestSupport"]),
        .testTarget(name: "PacketStackTests", dependencies: ["PacketStack", "Wire", "TestSupport"]),
        .testTarget(name: "ShareTests", dependencies: ["Share", "PacketStack", "Transport", "TransportTesting", "Wire"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Wire"]),
        .testTarget(name: "RelayTests", dependencies: ["Relay", "Share", "Transport", "TransportTesting", "Wire", "Identity", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
