import ArgumentParser
import CSandbox
import Foundation
import InstanceWire
import InstanceWorker
import KVM
import KumoSupport
import Logging
import Tender

/// `kumo instance`: one instance process, started by `kumo serve`'s pool.
/// Speaks frames on stdin/stdout and takes its image on descriptor 3; not for people.
public struct InstanceCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "instance", _superCommandName: "kumo", abstract: "Serve one function instance for kumo serve (internal).", shouldDisplay: false)

    @Option(name: .customLong("hide"), help: "A folder the instance must not see (the node's data directory).")
    var hidden: [String] = []

    @Flag(name: .customLong("test-hooks"), help: "Honour the test suite's KUMO_TEST_* requests (kumo serve --test-hooks).")
    var testHooks = false

    public func run() throws {
        // Die with kumo serve: a killed node must not leave guests (and their cards) running.
        Trace.mark("inst main")
        let parent = getppid()
        _ = csb_die_with_parent(SIGKILL)
        if getppid() != parent { throw ExitCode(1) }  // the node died before we asked
        // The frame pipes move off fds 0/1 so that nothing else can write into them.
        let input = dup(0), output = dup(1)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        dup2(null, 0)
        dup2(null, 1)
        var logger = Logger(label: "kumo.instance")
        let debug = ProcessInfo.processInfo.environment["KUMO_INSTANCE_DEBUG"] != nil
        logger.logLevel = debug ? .debug : .warning
        // /dev/kvm is opened before the sandbox takes the right to open it away.
        do {
            _ = try KVMDevice.shared()
            _ = try InstanceSandbox.enter(hiding: hidden, logOnlySeccomp: ProcessInfo.processInfo.environment["KUMO_SECCOMP_LOG"] != nil)
        } catch {
            try? FrameIO.write(.failed("\(error)"), to: output)
            throw ExitCode(1)
        }
        // A change of uid clears the parent-death signal: ask again, and check the node did not go meanwhile.
        _ = csb_die_with_parent(SIGKILL)
        if getppid() != parent { throw ExitCode(1) }
        // The image's copy and its parse allocate a few hundred KB: from a heap
        // faulted in now and kept (no mmap per large block, no trim), not from fresh pages.
        _ = csb_keep_heap(32 << 20, 64 << 20)
        let heap = UnsafeMutableRawPointer.allocate(byteCount: 4 << 20, alignment: 64)
        heap.initializeMemory(as: UInt8.self, repeating: 0, count: 4 << 20)  // touched: faulted in
        heap.deallocate()
        // Ready KVM, a spare VM and the run path while the pool holds this process.
        Tender.prewarm(logger: logger)
        let server = InstanceServer(input: input, output: output, images: SealedImageDescriptor.socket,
                                    logger: logger, testHooks: testHooks)
        server.warmUp()
        Trace.mark("inst ready")
        throw ExitCode(server.run())
    }
}
