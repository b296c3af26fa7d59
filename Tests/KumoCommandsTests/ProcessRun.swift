import Foundation

/// Runs a program to its end under timeout(1), so one that hangs ends after `seconds`
/// (status 124) instead of hanging the tests; its status, stdout and stderr.
func runProcess(_ executable: String, _ arguments: [String], in directory: String = FileManager.default.currentDirectoryPath,
                stdin: Data = Data(), seconds: Int = 120) throws -> (status: Int32, stdout: Data, stderr: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
    process.arguments = [String(seconds), executable] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let input = Pipe(), out = Pipe(), err = Pipe()
    process.standardInput = input
    process.standardOutput = out
    process.standardError = err
    try process.run()
    input.fileHandleForWriting.write(stdin)
    try input.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, stdout, stderr)
}
