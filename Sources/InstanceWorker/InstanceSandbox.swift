import CSandbox
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Confines a `kumo instance` process before it serves any tenant, as
/// Firecracker's jailer confines a VMM: once /dev/kvm is open it leaves the
/// node's mount, network, IPC and UTS namespaces (an empty network, a private
/// /tmp, the node's data hidden), becomes a uid of its own with no
/// capabilities, sets NoNewPrivs and resource limits, and installs a seccomp
/// filter that allows only the system calls an instance makes.
public enum InstanceSandbox {
    public enum Failure: Error, CustomStringConvertible {
        case step(String, Int32)
        case notSingleThreaded(Int)
        public var description: String {
            switch self {
            case .notSingleThreaded(let n): return "instance sandbox: entered with \(n) threads; it must run before any thread starts"
            case .step(let step, let errno): return "instance sandbox: \(step) failed: \(String(cString: strerror(errno)))"
            }
        }
    }

    /// Each instance's uid (and gid) is this plus its pid: distinct per instance,
    /// owned by no account, far above the ranges distributions hand out.
    static let identityBase: UInt32 = 0x4B55_0000

    /// What was applied; steps that need root are skipped when the node is not root.
    public struct Applied: Sendable {
        public var namespaces = false
        public var identity: UInt32?
    }

    /// Applies every step; throws at the first that fails (a process that cannot be confined must not serve).
    public static func enter(hiding hidden: [String], logOnlySeccomp: Bool) throws(Failure) -> Applied {
        var applied = Applied()
        // Namespaces, the uid and NoNewPrivs hold for the calling thread only.
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
        guard threads == 1 else { throw .notSingleThreaded(threads) }
        if geteuid() == 0 {
            try check("unshare", csb_unshare(CSB_NEWNS | CSB_NEWNET | CSB_NEWIPC | CSB_NEWUTS))
            let existing = hidden.filter { access($0, F_OK) == 0 }
            let rc = withCStrings(existing) { csb_private_mounts(64 << 20, $0, Int32(existing.count)) }
            try check("private mounts", rc)
            applied.namespaces = true
            let identity = identityBase + UInt32(getpid())
            try check("becoming uid \(identity)", csb_become(identity, identity))
            applied.identity = identity
        }
        try check("RLIMIT_NOFILE", csb_limit(Int32(RLIMIT_NOFILE.rawValue), 256))
        try check("RLIMIT_CORE", csb_limit(Int32(RLIMIT_CORE.rawValue), 0))
        try check("NoNewPrivs", csb_no_new_privs())
        // PoCL's kernel cache: private to this process (a shared one could be poisoned by another tenant).
        var cache = Array("/tmp/kumo-pocl-XXXXXX".utf8CString)
        if cache.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil {
            setenv("POCL_CACHE_DIR", String(cString: cache), 1)
        }
        // With a cache that dies with the process, specializing work-group functions per launch size
        // would recompile each kernel in every instance (~50 ms); the generic one ships in the bitstream.
        setenv("POCL_WORK_GROUP_SPECIALIZATION", "0", 1)
        let rc = withCStrings(allowedCalls) { names in
            terminalRequests.withUnsafeBufferPointer { tty in
                csb_seccomp(names, Int32(allowedCalls.count), tty.baseAddress, Int32(tty.count), logOnlySeccomp ? 1 : 0)
            }
        }
        try check("seccomp", rc)
        return applied
    }

    private static func check(_ step: String, _ rc: Int32) throws(Failure) {
        if rc != 0 { throw .step(step, -rc) }
    }

    /// Calls `body` with a NULL-free array of C strings that live for the call.
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Terminal queries libraries make on their standard streams (isatty, FIONREAD, FIONBIO, FIOCLEX).
    static let terminalRequests: [UInt] = [0x5401, 0x541B, 0x5421, 0x5451]

    /// The system calls an instance makes (ioctl and clone are allowed with checked
    /// arguments, by csb_seccomp): the tender (KVM through ioctl, guest
    /// memory, the vCPU and watchdog threads, signals that kick the vCPU), the
    /// frame pipes, the Swift runtime, and the host's OpenCL runtime (PoCL, which
    /// compiles kernels with LLVM and links them with `ld` in a child that inherits
    /// this filter, NoNewPrivs and the uid). Nothing that reaches the
    /// network, other processes, or the file system's metadata for writing.
    static let allowedCalls: [String] = [
        // I/O on descriptors it has
        "read", "write", "readv", "writev", "pread64", "pwrite64", "close", "dup", "dup2", "dup3", "fcntl",
        "lseek", "poll", "ppoll", "recvmsg", "pipe2", "eventfd2", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
        // files (read the OpenCL runtime's libraries and configuration; PoCL's private cache in /tmp)
        "openat", "open", "newfstatat", "fstat", "stat", "lstat", "statx", "access", "faccessat", "faccessat2",
        "readlink", "readlinkat", "getdents64", "getcwd", "mkdir", "mkdirat", "unlink", "unlinkat", "rename",
        "renameat", "renameat2", "fsync", "fdatasync", "ftruncate", "fallocate", "statfs", "fstatfs", "flock",
        "memfd_create", "fadvise64", "chmod", "fchmod", "umask",
        // PoCL links each kernel with the system's linker: a child process, confined as this one
        "execve", "wait4", "vfork",
        // memory
        "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "mlock", "munlock", "membarrier", "mincore",
        // threads and time
        "futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "gettid",
        "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_getscheduler",
        "sched_get_priority_max", "sched_get_priority_min", "nanosleep", "clock_nanosleep", "clock_gettime",
        "clock_getres", "gettimeofday", "timerfd_create", "timerfd_settime",
        // signals (the watchdog kicks the vCPU thread out of KVM_RUN)
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack", "tgkill", "tkill",
        // identity and limits, read only
        "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid",
        "getrlimit", "prlimit64", "getrusage", "uname", "sysinfo", "getrandom", "arch_prctl", "prctl",
        "setpriority", "getpriority",
        "exit", "exit_group",
    ]
}
