import Foundation

/// A condition that did not come true in time; thrown, it fails the test with its text.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public let description: String
}

/// Polls `condition` until it holds; throws `WaitTimedOut` after `seconds`.
public func waitFor(_ what: String, seconds: Double = 20, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw WaitTimedOut(description: "timed out after \(seconds) s waiting for \(what)")
}
