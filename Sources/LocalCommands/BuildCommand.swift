import ArgumentParser
import Foundation

public struct BuildCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "build", _superCommandName: "kumo",
        abstract: "Build a function directory (function.yaml + C sources) into a unikernel image.")

    @Argument(help: "The function directory.")
    var directory: String

    @OptionGroup var common: CommonOptions

    public func run() throws {
        guard isDirectory(directory) else {
            throw fail(BuildError.unsupported("\(directory) is not a directory; give a function directory with a function.yaml"))
        }
        do {
            let builder = ImageBuilder(toolchain: try Toolchain.prepare(), logger: common.logger(), progress: progress)
            let image = try builder.build(directory: directory)
            print(image)
        } catch {
            throw fail(error)
        }
    }
}
