import CKumoABI

/// A 4 KiB image made in memory that only calls exit(0). A pre-started
/// instance process boots it once while it waits, so that the first real
/// boot finds its code paths, its heap and a guest memory region already
/// faulted in (each host page fault is costly on kvm-pvm).
enum WarmupImage {
    static func bytes() -> [UInt8] {
        // The exit call's struct sits zeroed (status 0) past the code, in the segment's memory.
        let exitCall = KUMO_IMAGE_BASE + 0x800
        let doorbell = KUMO_DOORBELL_BASE + 8 * UInt64(KUMO_HC_EXIT.rawValue)
        var code: [UInt8] = [0x48, 0xBB] + le(doorbell)  // movabs $doorbell+8*EXIT, %rbx
        code += [0x48, 0xB8] + le(exitCall)               // movabs $call, %rax
        code += [0x48, 0x89, 0x03, 0x0F, 0x0B]            // mov %rax, (%rbx); ud2
        var image = ELFBuilder()
        image.code = code
        return image.bytes()
    }

    private static func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}
