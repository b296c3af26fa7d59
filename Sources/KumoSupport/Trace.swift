import Foundation

/// Profiling marks for the request and cold-start paths: with KUMO_TRACE set, each mark is a
/// line "TRACE pid monotonic-ns label" on stderr (the node's and the instance
/// processes' alike), which scripts/cold-start-trace.sh turns into a per-step
/// breakdown. Without it a mark is one load and a branch.
public enum Trace {
    public static let enabled = getenv("KUMO_TRACE") != nil

    @inline(__always) public static func mark(_ label: StaticString) {
        guard enabled else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let line = "TRACE \(getpid()) \(Int(now.tv_sec) * 1_000_000_000 + now.tv_nsec) \(label)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
