/// Which generation of TOPdesk the simulator plays.
public enum SimulatorProfile: String, Sendable, Equatable, CaseIterable {
    /// Before November 2017: two-step token login only; Basic auth on data endpoints is a 401.
    case legacy
    /// After: tokens still work, and `Basic login:application-password` works on every endpoint.
    case modern
}

/// Everything the command line can set. Points that no public source settles are marked "(our
/// choice)" in LEGACY_API.md; each is a field here so a user with a real old install can match it.
public struct SimulatorSettings: Sendable, Equatable {
    public var profile: SimulatorProfile = .legacy
    /// Lifetime of a token, absolute from login. Default 8 hours (the old tutorial's figure).
    public var tokenLifetime: Duration = .seconds(8 * 3600)
    /// A token unused for this long dies too. Default nil: no idle timeout.
    public var tokenIdleTimeout: Duration?
    /// `Content-Type` of the token answered by a successful login. Default `text/plain`.
    public var loginContentType: String = "text/plain"
    /// Status for an account without the API permission ("REST realm"). Default 403.
    public var noPermissionStatus: Int = 403
    /// Largest `page_size` accepted on lists. Default 100.
    public var maximumPageSize: Int = 100
    /// Above `maximumPageSize`: answer 400 (default) or quietly use the maximum.
    public var rejectOversizedPage: Bool = true
    /// 401 answers as the servlet container's HTML page instead of the JSON message. Default false.
    /// The `html401` fault turns this on at run time as well.
    public var html401: Bool = false
    /// Status for a FIQL `query=` parameter, which an old install does not know. Default 400.
    public var queryParameterStatus: Int = 400
    /// The version `/tas/api/version` reports. Default "3.1.4" (old installs are below 3.3).
    public var version: String = "3.1.4"
    /// Where `/tas/secure/...` redirects to. Default the web login page.
    public var webLoginPath: String = "/tas/public/login/form"
    /// Log one line per API request to stderr. Default true; `--quiet` turns it off.
    public var logRequests: Bool = true

    public init() {}
}
