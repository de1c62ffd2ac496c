// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "TokenBridge",
    products: [
        .executable(name: "tokenbridge", targets: ["tokenbridge"]),
        .executable(name: "legacy-topdesk", targets: ["legacy-topdesk"]),
        // Built only by scripts/fuzz with -sanitize=fuzzer; never part of the normal build.
        .executable(name: "http1-fuzz", targets: ["HTTP1Fuzz"]),
    ],
    targets: [
        // C shims: headers Swift cannot import directly and macros it cannot call.
        .target(
            name: "COpenSSL",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        .target(name: "CSystem"),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // The codec: no I/O.
        .target(name: "HTTP1"),
        // Event loops, TCP, TLS, HTTP server connections and the upstream client pool.
        .target(name: "Network", dependencies: ["HTTP1", "COpenSSL", "CSystem"]),
        // Client credentials in SQLite.
        .target(name: "Credentials", dependencies: ["CSQLite", "COpenSSL"]),
        // Legacy login client and per-account token pool.
        .target(name: "TokenPool", dependencies: ["Network", "HTTP1"]),
        // The product: configuration, request pipeline, rewriting, logs, admin.
        .target(name: "Gateway", dependencies: ["HTTP1", "Network", "Credentials", "TokenPool", "LegacyTopdesk"]),
        // Simulator of an old-style install.
        .target(name: "LegacyTopdesk", dependencies: ["Network", "HTTP1"]),

        .executableTarget(name: "tokenbridge", dependencies: ["Gateway"]),
        .executableTarget(name: "legacy-topdesk", dependencies: ["LegacyTopdesk"]),
        .executableTarget(name: "HTTP1Fuzz", dependencies: ["HTTP1"]),

        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"], exclude: ["FuzzCorpus"]),
        .testTarget(name: "NetworkTests", dependencies: ["Network", "HTTP1", "COpenSSL", "CSystem"]),
        .testTarget(name: "CredentialsTests", dependencies: ["Credentials"]),
        .testTarget(name: "TokenPoolTests", dependencies: ["TokenPool", "Network", "HTTP1", "LegacyTopdesk"]),
        .testTarget(name: "LegacyTopdeskTests", dependencies: ["LegacyTopdesk", "Network", "HTTP1"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "LegacyTopdesk", "Network", "HTTP1", "Credentials", "TokenPool"]),
    ]
)
