import CKumoABI
import KVM

/// Guest memory layout and the long-mode state for a CPL 3 start (see
/// shared/probes/kvm: at CPL 0 kvm-pvm emulates and dies on SSE).
enum GuestLayout {
    static let pml4: UInt64 = KUMO_PAGETABLE_BASE        // 0x1000
    static let pdpt: UInt64 = KUMO_PAGETABLE_BASE + 0x1000
    static let pageDirectories: UInt64 = KUMO_PAGETABLE_BASE + 0x2000  // one per GiB: 0x3000, 0x4000
    static let doorbellDirectory: UInt64 = KUMO_PAGETABLE_BASE + 0x4000
    static let firstPageTable: UInt64 = KUMO_PAGETABLE_BASE + 0x5000   // 4 KiB pages of the first 2 MiB

    static let present: UInt64 = 1, writable: UInt64 = 2, user: UInt64 = 4, largePage: UInt64 = 0x80
    static let twoMiB: UInt64 = 2 << 20

    /// Stack reserved at the top of memory: an eighth of it, at most 8 MiB.
    static func stackSize(memorySize: UInt64) -> UInt64 { min(8 << 20, memorySize / 8) }

    /// Where the guest puts its large mappings (kumo_abi.h: below the top KUMO_SMALL_MAPPINGS
    /// of the heap, which ends at the stack), 2 MiB-aligned, from a quarter of memory up: host
    /// huge pages there halve a first touch's cost. Small programs never touch it: a huge
    /// page's allocation and zeroing would cost them more than it saves.
    static func hugePageZone(memorySize: UInt64) -> Range<UInt64>? {
        let heapEnd = memorySize - stackSize(memorySize: memorySize)
        guard heapEnd > KUMO_SMALL_MAPPINGS else { return nil }
        let top = (heapEnd - KUMO_SMALL_MAPPINGS) & ~(twoMiB - 1)
        let bottom = (max(memorySize / 4, 16 << 20) + twoMiB - 1) & ~(twoMiB - 1)
        return bottom < top ? bottom..<top : nil
    }

    /// A new guest memory region of `size`, its large-mapping zone backed by huge pages.
    static func makeMemory(size: UInt64) throws(KVMError) -> GuestMemory {
        let memory = try GuestMemory(size: size)
        if let zone = hugePageZone(memorySize: size) { memory.adviseHugePages(at: zone.lowerBound, length: zone.upperBound - zone.lowerBound) }
        return memory
    }

    /// Identity-maps [0, memorySize) with the U bit, except page 0 (so a null
    /// dereference faults), plus the doorbell's 2 MiB. Nothing else is mapped.
    static func writePageTables(into memory: GuestMemory) throws(GuestMemoryError) {
        let flags = present | writable | user
        try memory.store(pdpt | flags, at: pml4)
        let gigabytes = (memory.size + (1 << 30) - 1) >> 30
        for g in 0..<gigabytes {
            try memory.store((pageDirectories + g * 0x1000) | flags, at: pdpt + g * 8)
        }
        let doorbellSlot = KUMO_DOORBELL_BASE >> 30
        try memory.store(doorbellDirectory | flags, at: pdpt + doorbellSlot * 8)
        try memory.store(KUMO_DOORBELL_BASE | flags | largePage, at: doorbellDirectory)
        // First 2 MiB in 4 KiB pages, page 0 left unmapped.
        try memory.store(firstPageTable | flags, at: pageDirectories)
        for page in UInt64(1)..<512 {
            try memory.store((page << 12) | flags, at: firstPageTable + page * 8)
        }
        let largePages = memory.size / twoMiB
        if largePages > 1 {
            for i in UInt64(1)..<largePages {
                try memory.store((i * twoMiB) | flags | largePage, at: pageDirectories + i * 8)
            }
        }
    }

    static let longMode = LongModeState(
        code: Segment(selector: 0x33, type: 11, dpl: 3, longMode: true, defaultSize32: false),
        data: Segment(selector: 0x2b, type: 3, dpl: 3, longMode: false, defaultSize32: true),
        cr0: 0x8005_0033,                    // PG, AM, WP, NE, ET, MP, PE
        cr3: pml4,
        cr4: 0x20 | 0x200 | 0x400 | 0x10000, // PAE, OSFXSR, OSXMMEXCPT, FSGSBASE
        efer: 0x100 | 0x400 | 0x800 | 1)     // LME, LMA, NXE, SCE

    static let initialFlags: UInt64 = 0x202  // IF
}
