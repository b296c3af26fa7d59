import KVM
import Testing

/// Tests that boot real unikernels need /dev/kvm. Where it is missing they
/// fail, loudly, with the reason: they are never skipped.
enum KVMRequirement {
    static func check() -> Bool {
        do {
            _ = try KVMDevice()
            return true
        } catch {
            Issue.record("these tests boot real unikernels and need KVM: \(error)")
            return false
        }
    }
}
