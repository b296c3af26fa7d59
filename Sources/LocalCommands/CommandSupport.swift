import ArgumentParser
import Foundation
import Logging

/// What every command shares: the verbose flag, one way to fail, progress lines.
public struct CommonOptions: ParsableArguments, Sendable {
    public init() {}

    @Flag(name: .shortAndLong, help: "Log what the tender and the builder do.")
    public var verbose = false

    public func logger() -> Logger {
        var logger = Logger(label: "kumo")
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }
}

/// Prints a one-line reason and exits 1: the way every command fails.
public func fail(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("kumo: \(error)\n".utf8))
    return ExitCode(1)
}

/// The same, for a reason that is a message.
public func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("kumo: \(message)\n".utf8))
    return ExitCode(1)
}

public func isDirectory(_ path: String) -> Bool {
    var dir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
}

/// A line about what a command is doing, on stderr (stdout is the command's result).
public func progress(_ message: String) {
    FileHandle.standardError.write(Data("kumo: \(message)\n".utf8))
}
