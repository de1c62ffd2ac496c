import CSystem
import Glibc

/// A numeric IPv4 or IPv6 address and a TCP port. Names are not resolved here.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable, Hashable { case ipv4, ipv6 }

    /// The address in its canonical numeric form ("127.0.0.1", "::1").
    public let host: String
    public let port: Int
    public let family: Family

    /// Parses a numeric address; throws `SocketAddressError` for names or out-of-range ports.
    public init(host: String, port: Int) throws(SocketAddressError) {
        guard (0...65535).contains(port) else { throw SocketAddressError(host: host, port: port) }
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if inet_pton(AF_INET, bare, &ipv4) == 1 {
            self.family = .ipv4
            self.host = Self.format(family: AF_INET, &ipv4)
        } else if inet_pton(AF_INET6, bare, &ipv6) == 1 {
            self.family = .ipv6
            self.host = Self.format(family: AF_INET6, &ipv6)
        } else {
            throw SocketAddressError(host: host, port: port)
        }
        self.port = port
    }

    /// Reads an address the kernel filled in (accept, getsockname).
    init?(_ storage: UnsafePointer<sockaddr_storage>) {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let address = UnsafeRawPointer(storage).load(as: sockaddr_in.self)
            var raw = address.sin_addr
            host = Self.format(family: AF_INET, &raw)
            port = Int(UInt16(bigEndian: address.sin_port))
            family = .ipv4
        case AF_INET6:
            let address = UnsafeRawPointer(storage).load(as: sockaddr_in6.self)
            var raw = address.sin6_addr
            host = Self.format(family: AF_INET6, &raw)
            port = Int(UInt16(bigEndian: address.sin6_port))
            family = .ipv6
        default:
            return nil
        }
    }

    public var description: String {
        switch family {
        case .ipv4: "\(host):\(port)"
        case .ipv6: "[\(host)]:\(port)"
        }
    }

    var addressFamily: Int32 { family == .ipv4 ? AF_INET : AF_INET6 }

    /// Calls `body` with this address as a `sockaddr` and its length.
    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        switch family {
        case .ipv4:
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            _ = inet_pton(AF_INET, host, &address.sin_addr)
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6:
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            _ = inet_pton(AF_INET6, host, &address.sin6_addr)
            return withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    private static func format(family: Int32, _ raw: UnsafeRawPointer) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(INET6_ADDRSTRLEN) + 1) { text in
            _ = inet_ntop(family, raw, text.baseAddress, socklen_t(text.count))
            return String(cString: text.baseAddress!)
        }
    }
}

/// The text given was not a numeric address with a valid port.
public struct SocketAddressError: Error, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public var description: String { "not a numeric IP address and port: \(host) port \(port)" }
}
