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
    /// Scrubbed memory already attached as slot 0, its page tables written
    /// (a memslot change costs ~130 µs here, and waits on the other CPU).
    var memory: GuestMemory?
}

final class TenderPools: Sendable {
    static let shared = TenderPools()

    /// Memory regions of at most this many resident bytes are scrubbed and reused.
    static let maxScrubBytes: UInt64 = 16 << 20
    static let maxRegionsPerSize = 2
    static let spareShells = 1
    /// Bytes of a prepared region faulted in ahead: ~2.3 MiB resident per spare VM.
    static let populatedImageBytes: UInt64 = 2 << 20
    static let populatedStackBytes: UInt64 = 256 << 10

    private let shells = Mutex<[VMShell]>([])
    private let memory = Mutex<[UInt64: [GuestMemory]]>([:])
    private let background = DispatchQueue(label: "kumo.tender.pools")
    /// Runs whose teardown is queued; past `maxPending` the caller tears down
    /// itself, so a burst of runs cannot pile up VMs faster than they are freed.
    private let pending = Atomic<Int>(0)
    static let maxPending = 4

    /// The size that spare VMs get their memory prepared for: the last run's.
    private let preparedSize = Atomic<UInt64>(RunOptions.defaultMemory)

    /// Spares made for another size give their memory back, and a spare for this size replaces them.
    func prepare(memorySize: UInt64) {
        guard preparedSize.exchange(memorySize, ordering: .relaxed) != memorySize else { return }
        background.async { [self] in
            let stale = shells.withLock { spares in
                defer { spares.removeAll { $0.memory.map { $0.size != memorySize } ?? false } }
                return spares.filter { $0.memory.map { $0.size != memorySize } ?? false }
            }
            for shell in stale {
                shell.vcpu.close()
                shell.vm.close()
                if let region = shell.memory { recycle(region) }
            }
            if let device = try? KVMDevice.shared() { refill(device: device) }
        }
    }

    func takeShell(memorySize: UInt64) -> VMShell? {
        preparedSize.store(memorySize, ordering: .relaxed)
        return shells.withLock { $0.popLast() }
    }

    /// Scrubbed regions of `size` bytes waiting for a run, loose or attached to a spare VM.
    func pooledMemoryCount(size: UInt64) -> Int {
        memory.withLock { $0[size]?.count ?? 0 } + shells.withLock { $0.filter { $0.memory?.size == size }.count }
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
        let teardown: @Sendable () -> Void = { [self] in
            // Destroy the VM before its memory serves anyone else.
            shell.vcpu.close()
            shell.vm.close()
            if reuseMemory {
                recycle(region)
                refill(device: device)
            }
            pending.subtract(1, ordering: .relaxed)
        }
        let later: Bool = held.withLock { h in
            if h.holding { h.work.append(teardown) }
            return h.holding
        }
        if !later { background.async(execute: teardown) }
    }

    /// Teardown while held waits for `releaseTeardowns`: unmapping memory and
    /// closing a VM flush TLBs on every CPU the process ran on, and on this
    /// machine such a flush can stall the answer's thread for milliseconds.
    private let held = Mutex<(holding: Bool, work: [@Sendable () -> Void])>((false, []))

    func holdTeardowns() {
        held.withLock { $0.holding = true }
    }

    func releaseTeardowns() {
        let work = held.withLock { h in
            defer { h = (false, []) }
            return h.work
        }
        for teardown in work { background.async(execute: teardown) }
    }

    func recycleLater(_ region: GuestMemory) {
        background.async { [self] in recycle(region) }
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
            var shell = VMShell(vm: vm, vcpu: vcpu)
            // Warm only when no other teardown waits: under back-to-back runs the
            // background queue is the bottleneck, and a cold spare beats none.
            if pending.load(ordering: .relaxed) <= 1 {
                guard warm(&shell) else { return }
            }
            shells.withLock { $0.append(shell) }
        }
    }

    /// A vCPU's first KVM_RUN costs ~170 µs on kvm-pvm, a later one ~90 µs, and
    /// a memslot change ~130 µs. So each spare gets a scrubbed region of the
    /// prepared size (pooled, or new) attached, its page tables written and its
    /// image and stack area faulted in, and runs Kumo's priming code in it (see
    /// `primingCode`), which is then wiped. The run that takes the shell sets
    /// the entry registers anew.
    private func warm(_ shell: inout VMShell) -> Bool {
        let size = preparedSize.load(ordering: .relaxed)
        do {
            let region = try takeMemory(size: size) ?? GuestLayout.makeMemory(size: size)
            try GuestLayout.writePageTables(into: region)
            region.populate(at: KUMO_IMAGE_BASE, length: min(Self.populatedImageBytes, region.size / 4))
            region.populate(at: region.size - Self.populatedStackBytes, length: Self.populatedStackBytes)
            let code = Self.primingCode(memorySize: region.size)
            try region.write(code, at: Self.primingCodeAddress)
            try shell.vm.attach(memory: region)
            try shell.vcpu.setLongMode(GuestLayout.longMode)
            try shell.vcpu.setEntry(rip: Self.primingCodeAddress, rsp: region.size, rflags: GuestLayout.initialFlags, rdi: 0)
            let exit = try shell.vcpu.run()
            guard case .mmioWrite(let address, _, _) = exit, address == KUMO_DOORBELL_BASE else { return false }
            try region.zero(at: Self.primingCodeAddress, length: UInt64(code.count))
            shell.memory = region
            return true
        } catch {
            return false
        }
    }

    /// movabs $doorbell, %rbx; mov %eax, (%rbx); ud2
    private static let doorbellCode: [UInt8] = [0x48, 0xBB] + littleEndian(KUMO_DOORBELL_BASE) + [0x89, 0x03, 0x0F, 0x0B]

    /// Where a prepared region's priming code runs: the last page of the first
    /// 64 KiB of boot info, which it does not touch itself; wiped afterwards.
    static let primingCodeAddress: UInt64 = KUMO_BOOTINFO_BASE + 0xF000

    /// Stores a zero byte into every page a guest is likely to touch first (boot
    /// info, where images load, the stack), then rings the doorbell. On kvm-pvm
    /// each page a guest touches first costs a shadow page fault (several µs);
    /// taken here, in the background, the shadow mappings are ready when a
    /// guest boots in this VM, and the memory stays all zero.
    static func primingCode(memorySize: UInt64) -> [UInt8] {
        let ranges: [(UInt64, UInt64)] = [
            (KUMO_BOOTINFO_BASE, primingCodeAddress),
            (KUMO_IMAGE_BASE, KUMO_IMAGE_BASE + min(populatedImageBytes, memorySize / 4)),
            (memorySize - populatedStackBytes, memorySize),
        ]
        var code: [UInt8] = []
        for (start, end) in ranges {
            code += [0x48, 0xBF] + littleEndian(start)          // movabs $start, %rdi
            code += [0x48, 0xBE] + littleEndian(end)            // movabs $end, %rsi
            code += [0xC6, 0x07, 0x00]                          // 1: movb $0, (%rdi)
            code += [0x48, 0x81, 0xC7, 0x00, 0x10, 0x00, 0x00]  //    add $4096, %rdi
            code += [0x48, 0x39, 0xF7]                          //    cmp %rsi, %rdi
            code += [0x72, 0xF1]                                //    jb 1b (back 15 bytes)
        }
        return code + doorbellCode
    }

    private static func littleEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
