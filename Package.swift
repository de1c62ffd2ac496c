// swift-tools-version:6.0
import PackageDescription

// Release builds skip the run-time exclusivity checks on class properties and globals: they cost
// about 6% of the gateway's user-space instructions per proxied request (measured with callgrind).
// Debug builds, which every test runs, keep them, so an overlapping access is still caught there;
// the compile-time checks apply to both.
let releaseSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

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
        .target(name: "HTTP1", swiftSettings: releaseSettings),
        // Event loops, TCP, TLS, HTTP server connections and the upstream client pool.
        .target(name: "Network", dependencies: ["HTTP1", "COpenSSL", "CSystem"], swiftSettings: releaseSettings),
        // Client credentials in SQLite.
        .target(name: "Credentials", dependencies: ["CSQLite", "COpenSSL"], swiftSettings: releaseSettings),
        // Legacy login client and per-account token pool.
        .target(name: "TokenPool", dependencies: ["Network", "HTTP1"], swiftSettings: releaseSettings),
        // The product: configuration, request pipeline, rewriting, logs, admin.
        .target(name: "Gateway", dependencies: ["HTTP1", "Network", "Credentials", "TokenPool", "LegacyTopdesk"],
                swiftSettings: releaseSettings),
        // Simulator of an old-style install.
        .target(name: "LegacyTopdesk", dependencies: ["Network", "HTTP1"], swiftSettings: releaseSettings),

        .executableTarget(name: "tokenbridge", dependencies: ["Gateway"]),
        .executableTarget(name: "legacy-topdesk", dependencies: ["LegacyTopdesk"]),
        .executableTarget(name: "HTTP1Fuzz", dependencies: ["HTTP1"]),

        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"], exclude: ["FuzzCorpus"]),
        .testTarget(name: "NetworkTests", dependencies: ["Network", "HTTP1", "COpenSSL", "CSystem"]),
        .testTarget(name: "CredentialsTests", dependencies: ["Credentials"]),
        .testTarget(name: "TokenPoolTests", dependencies: ["TokenPool", "Network", "HTTP1", "LegacyTopdesk"]),
        .testTarget(name: "LegacyTopdeskTests", dependencies: ["LegacyTopdesk", "Network", "HTTP1"]),
        .testTarget(name: "GatewayTests",
                    dependencies: ["Gateway", "LegacyTopdesk", "Network", "HTTP1", "Credentials", "TokenPool"]),
    ]
)
