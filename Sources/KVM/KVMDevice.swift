import CKVM
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An open /dev/kvm whose API version and capabilities have been checked.
public final class KVMDevice: @unchecked Sendable {
    let fd: Int32
    public let vcpuMapSize: Int32

    public init(path: String = "/dev/kvm") throws(KVMError) {
        let fd = ckvm_open(path)
        guard fd >= 0 else { throw .deviceUnavailable(path: path, errno: -fd) }
        self.fd = fd
        do {
            let version = ckvm_ioctl_value(fd, CKVM_GET_API_VERSION, 0)
            guard version == 12 else { throw KVMError.unsupportedAPIVersion(version) }
            guard ckvm_ioctl_value(fd, CKVM_CHECK_EXTENSION, UInt(CKVM_CAP_USER_MEMORY)) > 0 else {
                throw KVMError.missingCapability("KVM_CAP_USER_MEMORY")
            }
            guard ckvm_ioctl_value(fd, CKVM_CHECK_EXTENSION, UInt(CKVM_CAP_IMMEDIATE_EXIT)) > 0 else {
                throw KVMError.missingCapability("KVM_CAP_IMMEDIATE_EXIT")
            }
            let size = ckvm_ioctl_value(fd, CKVM_GET_VCPU_MMAP_SIZE, 0)
            guard size > 0 else { throw KVMError.ioctlFailed(operation: "KVM_GET_VCPU_MMAP_SIZE", errno: -size) }
            vcpuMapSize = size
        } catch let error as KVMError {
            _ = ckvm_close(fd)
            throw error
        } catch {
            _ = ckvm_close(fd)
            throw .missingCapability("unknown")
        }
    }

    /// KVM_GET_SUPPORTED_CPUID costs ~0.2 ms on kvm-pvm: asked once per device.
    private let cpuidCache = Mutex<OpaquePointer?>(nil)

    func supportedCPUID() throws(KVMError) -> OpaquePointer {
        let result: Result<OpaquePointer, KVMError> = cpuidCache.withLock { cached in
            if let cached { return .success(cached) }
            var err: Int32 = 0
            guard let table = ckvm_supported_cpuid(fd, &err) else {
                return .failure(.ioctlFailed(operation: "KVM_GET_SUPPORTED_CPUID", errno: -err))
            }
            cached = table
            return .success(table)
        }
        return try result.get()
    }

    /// One open /dev/kvm per process, opened on first use.
    public static func shared() throws(KVMError) -> KVMDevice {
        let result: Result<KVMDevice, KVMError> = sharedDevice.withLock { device in
            if let device { return .success(device) }
            do {
                let opened = try KVMDevice()
                device = opened
                return .success(opened)
            } catch let error as KVMError {
                return .failure(error)
            } catch {
                return .failure(.missingCapability("unknown"))
            }
        }
        return try result.get()
    }

    private static let sharedDevice = Mutex<KVMDevice?>(nil)

    deinit {
        cpuidCache.withLock { if let table = $0 { ckvm_free_cpuid(table) } }
        _ = ckvm_close(fd)
    }

    public func createVM() throws(KVMError) -> VirtualMachine {
        let vmfd = ckvm_ioctl_value(fd, CKVM_CREATE_VM, 0)
        guard vmfd >= 0 else { throw .ioctlFailed(operation: "KVM_CREATE_VM", errno: -vmfd) }
        return VirtualMachine(device: self, fd: vmfd)
    }
}

/// One VM: its memory slots and its vCPU.
public final class VirtualMachine: @unchecked Sendable {
    let device: KVMDevice
    let fd: Int32
    private var memory: [GuestMemory] = []

    init(device: KVMDevice, fd: Int32) {
        self.device = device
        self.fd = fd
    }

    private var closed = false

    /// Destroys the VM now (once its vCPUs are closed) and lets go of its memory.
    public func close() {
        guard !closed else { return }
        closed = true
        _ = ckvm_close(fd)
        memory.removeAll()
    }

    deinit { close() }

    /// Maps `memory` at guest-physical 0 (slot 0). The VM keeps it alive.
    public func attach(memory: GuestMemory) throws(KVMError) {
        var region = kvm_userspace_memory_region(
            slot: 0, flags: 0, guest_phys_addr: 0,
            memory_size: memory.size, userspace_addr: memory.hostAddress)
        let r = ckvm_ioctl_pointer(fd, CKVM_SET_USER_MEMORY_REGION, &region)
        guard r == 0 else { throw .ioctlFailed(operation: "KVM_SET_USER_MEMORY_REGION", errno: -r) }
        self.memory.append(memory)
    }

    /// Unmaps slot 0 (KVM drops every shadow mapping of it) so other memory can take its place.
    public func detachMemory() throws(KVMError) {
        var region = kvm_userspace_memory_region(slot: 0, flags: 0, guest_phys_addr: 0, memory_size: 0, userspace_addr: 0)
        let r = ckvm_ioctl_pointer(fd, CKVM_SET_USER_MEMORY_REGION, &region)
        guard r == 0 else { throw .ioctlFailed(operation: "KVM_SET_USER_MEMORY_REGION (delete)", errno: -r) }
        memory.removeAll()
    }

    public func createVCPU() throws(KVMError) -> VCPU {
        let vcpufd = ckvm_ioctl_value(fd, CKVM_CREATE_VCPU, 0)
        guard vcpufd >= 0 else { throw .ioctlFailed(operation: "KVM_CREATE_VCPU", errno: -vcpufd) }
        guard let run = ckvm_map_run(vcpufd, device.vcpuMapSize) else {
            _ = ckvm_close(vcpufd)
            throw .ioctlFailed(operation: "mmap of kvm_run", errno: errno)
        }
        let r = ckvm_set_cpuid(vcpufd, try device.supportedCPUID())
        guard r == 0 else {
            ckvm_unmap_run(run, device.vcpuMapSize)
            _ = ckvm_close(vcpufd)
            throw .ioctlFailed(operation: "KVM_SET_CPUID2", errno: -r)
        }
        return VCPU(vm: self, fd: vcpufd, run: run)
    }
}
