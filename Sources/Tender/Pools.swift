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

    private func refill(device: KVMDevice) {
        while shells.withLock({ $0.count }) < Self.spareShells {
            guard let vm = try? device.createVM(), let vcpu = try? vm.createVCPU() else { return }
            shells.withLock { $0.append(VMShell(vm: vm, vcpu: vcpu)) }
        }
    }
}
