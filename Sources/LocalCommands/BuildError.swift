/// Why `kumo build` failed; each says what to do.
public enum BuildError: Error, Equatable, CustomStringConvertible {
    case toolMissing(tool: String, hint: String)
    case kumoRootNotFound
    case runtimeBuildFailed(String)
    case compileFailed(source: String)
    case linkFailed
    case syscallInstruction(String)
    case fileUnreadable(String)
    case fileTreeTooLarge(limit: UInt64)
    case workdirMissing(String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .toolMissing(let tool, let hint): return "\(tool) is missing: \(hint)"
        case .kumoRootNotFound:
            return "cannot find Kumo's unikernel/ directory; run from a Kumo checkout or set KUMO_ROOT"
        case .runtimeBuildFailed(let why): return "building the Kumo runtime and musl failed: \(why)"
        case .compileFailed(let source): return "compiling \(source) failed (the compiler's messages are above)"
        case .linkFailed: return "linking the unikernel failed (the linker's messages are above)"
        case .syscallInstruction(let line):
            return "the image still contains a syscall instruction, which kills a kvm-pvm guest: \(line); "
                + "use libc functions instead of inline `syscall`"
        case .fileUnreadable(let path): return "cannot read \(path) to carry it into the image"
        case .fileTreeTooLarge(let limit): return "the carried files take more than \(limit >> 30) GiB, the most an image holds; carry fewer"
        case .workdirMissing(let path):
            return "workdir \(path) is not a directory of the image's file tree; carry files under it (files:) or use another workdir"
        case .unsupported(let why): return why
        }
    }
}
