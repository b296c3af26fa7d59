import Foundation

/// Runs a host tool; its stderr goes to ours (compiler diagnostics stay visible).
enum ProcessRunner {
    struct Result {
        let status: Int32
        let stdout: String
    }

    /// `directory`: the tool's current directory (nil: ours).
    static func run(_ executable: String, _ arguments: [String], captureStdout: Bool = true,
                    quietStderr: Bool = false, in directory: String? = nil) throws(BuildError) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory, isDirectory: true) }
        let pipe = Pipe()
        if captureStdout { process.standardOutput = pipe }
        if quietStderr { process.standardError = FileHandle.nullDevice }
        do { try process.run() } catch {
            throw .toolMissing(tool: executable, hint: "install it (apt-get install -y build-essential)")
        }
        let data = captureStdout ? pipe.fileHandleForReading.readDataToEndOfFile() : Data()
        process.waitUntilExit()
        if process.terminationStatus == 127 {
            throw .toolMissing(tool: executable, hint: "install it (apt-get install -y build-essential binutils)")
        }
        return Result(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self))
    }
}
