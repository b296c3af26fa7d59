import CKumoABI
import Dispatch
import KVM
import Synchronization

/// A VM with its vCPU (CPUID set), made ahead of time: creating them costs
/// ~0.5 ms on kvm-pvm and tearing them down ~0.4 ms, so both happen on a
/// background queue while guests run. A shell never ran a guest: each run
/// gets a VM of its own, and its memory is mapped into it at run time.
struct VMShell: @unchecked Sendable {
    let vm: VirtualMachine
    let vcpu: VCPU
}

final class TenderPools: Sendable {
    static let shared = TenderPools()

    /// Memory regions of at most this many resident bytes are scrubbed and reused.
    static let maxScrubBytes: UInt64 = 16 << 20
    static let maxRegionsPerSize = 2
    static let spareShells = 1

    private let shells = Mutex<[VMShell]>([])
    private let memory = Mutex<[UInt64: [GuestMemory]]>([:])
    private let background = DispatchQueue(label: "kumo.tender.pools")
    /// Runs whose teardown is queued; past `maxPending` the caller tears down
    /// itself, so a burst of runs cannot pile up VMs faster than they are freed.
    private let pending = Atomic<Int>(0)
    static let maxPending = 4

    func takeShell() -> VMShell? {
        shells.withLock { $0.popLast() }
    }

    /// Scrubbed regions of `size` bytes waiting for a run.
    func pooledMemoryCount(size: UInt64) -> Int {
        memory.withLock { $0[size]?.count ?? 0 }
    }

    func takeMemory(size: UInt64) -> GuestMemory? {
        memory.withLock { $0[size]?.popLast() }
    }

    /// After a run: destroy its VM; when pooling, scrub and keep its memory and make a spare shell.
    func finish(run shell: VMShell, memory region: GuestMemory, device: KVMDevice, reuseMemory: Bool) {
        guard pending.add(1, ordering: .relaxed).newValue <= Self.maxPending else {
            pending.subtract(1, ordering: .relaxed)
            shell.vcpu.close()
            shell.vm.close()
            return
        }
        background.async { [self] in
            // Destroy the VM before its memory serves anyone else.
            shell.vcpu.close()
            shell.vm.close()
            if reuseMemory {
                recycle(region)
                refill(device: device)
            }
            pending.subtract(1, ordering: .relaxed)
        }
    }

    private func recycle(_ region: GuestMemory) {
        let full = memory.withLock { ($0[region.size]?.count ?? 0) >= Self.maxRegionsPerSize }
        guard !full, region.scrub(maxResident: Self.maxScrubBytes) else { return }
        memory.withLock { $0[region.size, default: []].append(region) }
    }

    /// Makes the spare VM now (an instance process does this while it waits for work).
    func prepare() {
        guard let device = try? KVMDevice.shared() else { return }
        background.sync { refill(device: device) }
        // Where KVM cannot tell the TSC rate, measuring it takes 20 ms: do it now, not in the first boot.
        if shells.withLock({ $0.first?.vcpu.tscKHz() }) == nil { _ = Tender.calibratedTSCKHz }
    }

    private func refill(device: KVMDevice) {
        while shells.withLock({ $0.count }) < Self.spareShells {
            guard let vm = try? device.createVM(), let vcpu = try? vm.createVCPU() else { return }
            let shell = VMShell(vm: vm, vcpu: vcpu)
            // Warm only when no other teardown waits: under back-to-back runs the
            // background queue is the bottleneck, and a cold spare beats none.
            if pending.load(ordering: .relaxed) <= 1 {
                guard warm(shell) else { return }
            }
            shells.withLock { $0.append(shell) }
        }
    }

    /// Scratch memory for warming shells; only the background queue touches it.
    nonisolated(unsafe) private var warmupMemory: GuestMemory?

    /// A vCPU's first KVM_RUN costs ~170 µs on kvm-pvm, a later one ~90 µs
    /// even with other memory behind it. So each shell runs three instructions
    /// of Kumo's own (a doorbell store, then ud2) on scratch memory, which is
    /// then unmapped: KVM drops every shadow mapping of it, and the run that
    /// takes the shell sets all registers anew.
    private func warm(_ shell: VMShell) -> Bool {
        do {
            let scratch: GuestMemory
            if let existing = warmupMemory {
                scratch = existing
            } else {
                scratch = try GuestMemory(size: KUMO_MEMORY_MIN)
                try GuestLayout.writePageTables(into: scratch)
                var code: [UInt8] = [0x48, 0xBB]  // movabs $doorbell, %rbx
                code += (0..<8).map { UInt8(truncatingIfNeeded: KUMO_DOORBELL_BASE >> (8 * $0)) }
                code += [0x89, 0x03, 0x0F, 0x0B]  // mov %eax, (%rbx); ud2
                try scratch.write(code, at: KUMO_IMAGE_BASE)
                warmupMemory = scratch
            }
            try shell.vm.attach(memory: scratch)
            try shell.vcpu.setLongMode(GuestLayout.longMode)
            try shell.vcpu.setEntry(rip: KUMO_IMAGE_BASE, rsp: scratch.size, rflags: GuestLayout.initialFlags, rdi: 0)
            let exit = try shell.vcpu.run()
            try shell.vm.detachMemory()
            guard case .mmioWrite(let address, _, _) = exit, address == KUMO_DOORBELL_BASE else { return false }
            return true
        } catch {
            return false
        }
    }
}
