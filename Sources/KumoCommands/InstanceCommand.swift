import ArgumentParser
import Foundation
import Logging
import Node
import Tender
import CKVM

/// `kumo instance`: one instance process, started by `kumo serve`'s pool.
/// Speaks frames on stdin/stdout; not for people.
struct InstanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance", abstract: "Serve one function instance for kumo serve (internal).", shouldDisplay: false)

    func run() throws {
        // Die with kumo serve: a killed node must not leave guests (and their cards) running.
        Trace.mark("inst main")
        let parent = getppid()
        _ = ckvm_die_with_parent(SIGKILL)
        if getppid() != parent { throw ExitCode(1) }  // the node died before we asked
        // The frame pipes move off fds 0/1 so that nothing else can write into them.
        let input = dup(0), output = dup(1)
        let null = open("/dev/null", O_RDWR)
        dup2(null, 0)
        dup2(null, 1)
        var logger = Logger(label: "kumo.instance")
        logger.logLevel = ProcessInfo.processInfo.environment["KUMO_INSTANCE_DEBUG"] != nil ? .debug : .warning
        // Ready KVM, a spare VM and the run path while the pool holds this process.
        Tender.prewarm(logger: logger)
        let server = InstanceServer(input: input, output: output, logger: logger)
        server.warmUp()
        Trace.mark("inst ready")
        throw ExitCode(server.run())
    }
}
