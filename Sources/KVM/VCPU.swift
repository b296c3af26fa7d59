import CKVM
import Synchronization

/// A code or data segment for 64-bit mode.
public struct Segment: Sendable {
    public var selector: UInt16
    public var type: UInt8
    public var dpl: UInt8
    public var longMode: Bool
    public var defaultSize32: Bool
    public init(selector: UInt16, type: UInt8, dpl: UInt8, longMode: Bool, defaultSize32: Bool) {
        self.selector = selector
        self.type = type
        self.dpl = dpl
        self.longMode = longMode
        self.defaultSize32 = defaultSize32
    }
}

/// The special registers the tender sets to start a guest in long mode.
public struct LongModeState: Sendable {
    public var code: Segment
    public var data: Segment
    public var cr0: UInt64
    public var cr3: UInt64
    public var cr4: UInt64
    public var efer: UInt64
    public init(code: Segment, data: Segment, cr0: UInt64, cr3: UInt64, cr4: UInt64, efer: UInt64) {
        self.code = code
        self.data = data
        self.cr0 = cr0
        self.cr3 = cr3
        self.cr4 = cr4
        self.efer = efer
    }
}

/// One vCPU and its shared kvm_run area.
public final class VCPU: @unchecked Sendable {
    let vm: VirtualMachine
    let fd: Int32
    /// Valid until deinit: the kernel's mapping of this vCPU's kvm_run.
    let runArea: UnsafeMutablePointer<kvm_run>

    init(vm: VirtualMachine, fd: Int32, run: UnsafeMutablePointer<kvm_run>) {
        self.vm = vm
        self.fd = fd
        self.runArea = run
    }

    private var closed = false

    /// Releases the vCPU now rather than at deinit; it must not run again.
    public func close() {
        guard !closed else { return }
        closed = true
        ckvm_unmap_run(runArea, vm.device.vcpuMapSize)
        _ = ckvm_close(fd)
    }

    deinit { close() }

    public func setLongMode(_ state: LongModeState) throws(KVMError) {
        var sregs = kvm_sregs()
        var r = ckvm_ioctl_pointer(fd, CKVM_GET_SREGS, &sregs)
        guard r == 0 else { throw .ioctlFailed(operation: "KVM_GET_SREGS", errno: -r) }
        func segment(_ s: Segment) -> kvm_segment {
            kvm_segment(base: 0, limit: 0xffff_ffff, selector: s.selector, type: s.type,
                        present: 1, dpl: s.dpl, db: s.defaultSize32 ? 1 : 0, s: 1,
                        l: s.longMode ? 1 : 0, g: 1, avl: 0, unusable: 0, padding: 0)
        }
        sregs.cs = segment(state.code)
        let data = segment(state.data)
        sregs.ss = data
        sregs.ds = data
        sregs.es = data
        sregs.fs = data
        sregs.gs = data
        sregs.cr0 = state.cr0
        sregs.cr3 = state.cr3
        sregs.cr4 = state.cr4
        sregs.efer = state.efer
        r = ckvm_ioctl_pointer(fd, CKVM_SET_SREGS, &sregs)
        guard r == 0 else { throw .ioctlFailed(operation: "KVM_SET_SREGS", errno: -r) }
    }

    public func setEntry(rip: UInt64, rsp: UInt64, rflags: UInt64, rdi: UInt64) throws(KVMError) {
        var regs = kvm_regs()
        regs.rip = rip
        regs.rsp = rsp
        regs.rflags = rflags
        regs.rdi = rdi
        let r = ckvm_ioctl_pointer(fd, CKVM_SET_REGS, &regs)
        guard r == 0 else { throw .ioctlFailed(operation: "KVM_SET_REGS", errno: -r) }
    }

    public func registers() throws(KVMError) -> GuestRegisters {
        var regs = kvm_regs()
        let r = ckvm_ioctl_pointer(fd, CKVM_GET_REGS, &regs)
        guard r == 0 else { throw .ioctlFailed(operation: "KVM_GET_REGS", errno: -r) }
        return GuestRegisters(rip: regs.rip, rsp: regs.rsp, rbp: regs.rbp)
    }

    /// The TSC frequency of this vCPU in kHz, or nil where KVM cannot tell.
    public func tscKHz() -> UInt64? {
        let r = ckvm_ioctl_value(fd, CKVM_GET_TSC_KHZ, 0)
        return r > 0 ? UInt64(r) : nil
    }

    /// Runs the vCPU until its next exit.
    public func run() throws(KVMError) -> VCPUExit {
        let r = ckvm_ioctl_value(fd, CKVM_RUN, 0)
        if r == -EINTR_VALUE || r == -EAGAIN_VALUE { return .interrupted }
        guard r == 0 else { throw .ioctlFailed(operation: "KVM_RUN", errno: -r) }
        switch ckvm_run_exit_reason(runArea) {
        case CKVM_EXIT_MMIO:
            var address: UInt64 = 0, data: UInt64 = 0, length: UInt32 = 0, isWrite: UInt8 = 0
            ckvm_run_mmio(runArea, &address, &data, &length, &isWrite)
            return isWrite != 0 ? .mmioWrite(address: address, data: data, length: length)
                : .mmioRead(address: address, length: length)
        case CKVM_EXIT_IO: return .portIO
        case CKVM_EXIT_HLT: return .halt
        case CKVM_EXIT_SHUTDOWN: return .shutdown
        case CKVM_EXIT_INTERNAL_ERROR: return .internalError(suberror: ckvm_run_internal_suberror(runArea))
        case CKVM_EXIT_FAIL_ENTRY: return .failedEntry(reason: ckvm_run_fail_entry_reason(runArea))
        case CKVM_EXIT_INTR: return .interrupted
        case let reason: return .other(reason: reason)
        }
    }

    /// Makes the next (or current) KVM_RUN return at once; pair with `kick`.
    public func requestImmediateExit(_ on: Bool) { ckvm_run_set_immediate_exit(runArea, on ? 1 : 0) }
}

let EINTR_VALUE: Int32 = 4
let EAGAIN_VALUE: Int32 = 11

/// Interrupts a thread blocked in KVM_RUN (the tender's watchdog).
public enum VCPUKick {
    public static let signalNumber: Int32 = 34 + 4  // SIGRTMIN + 4: left alone by the Swift runtime
    private static let installed = Mutex(false)

    public static func installHandler() {
        installed.withLock { done in
            if !done { _ = ckvm_install_kick_handler(signalNumber); done = true }
        }
    }

    /// The calling thread, made ready to be kicked (the kick signal unblocked).
    public static func currentThread() -> pthread_t {
        _ = ckvm_unblock_kick(signalNumber)
        return ckvm_current_thread()
    }

    public static func kick(_ thread: pthread_t) { _ = ckvm_kick_thread(thread, signalNumber) }
}

/// The host's time-stamp counter, to calibrate the guest clock where KVM cannot report its rate.
public enum HostClock {
    public static func timestampCounter() -> UInt64 { ckvm_rdtsc() }
}
