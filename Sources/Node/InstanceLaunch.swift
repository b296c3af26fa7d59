import Foundation

/// How the node starts its instance processes: the `kumo` executable, the
/// folders they must not see, and the little of the node's environment they get.
public struct InstanceLaunch: Sendable {
    public var executable: String
    /// Hidden from instances by their mount namespace (the node's data directory).
    public var hiddenPaths: [String]
    /// Let requests trigger the instance's test hooks (`kumo serve --test-hooks`, for the test suite).
    public var testHooks = false

    public init(executable: String, hiddenPaths: [String]) {
        self.executable = executable
        self.hiddenPaths = hiddenPaths
    }

    var arguments: [String] {
        ["instance"] + hiddenPaths.flatMap { ["--hide", $0] } + (testHooks ? ["--test-hooks"] : [])
    }

    /// Variables an instance reads itself; the node's others (tokens among them) stay behind.
    static let passedVariables = ["KUMO_TRACE", "KUMO_INSTANCE_DEBUG", "KUMO_SECCOMP_LOG", "LANG"]

    var environment: [String] {
        let node = ProcessInfo.processInfo.environment
        return ["PATH=/usr/bin:/bin", "HOME=/nonexistent"] + Self.passedVariables.compactMap { key in node[key].map { "\(key)=\($0)" } }
    }

    /// An instance's stderr is the node's only while debugging or tracing it; else /dev/null.
    var keepsStderr: Bool {
        let node = ProcessInfo.processInfo.environment
        return node["KUMO_INSTANCE_DEBUG"] != nil || node["KUMO_TRACE"] != nil
    }
}
